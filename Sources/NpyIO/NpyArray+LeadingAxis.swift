extension NpyArray {
    /// The same elements with a leading axis of extent 1: shape (1, …shape) — a file holding one
    /// sample, (T, img), read as a batch of one, (1, T, img). No bytes are copied; in either memory
    /// order a unit axis in front leaves every element where it is.
    public func withLeadingAxis() -> NpyArray {
        NpyArray(dtype: dtype, byteOrder: byteOrder, shape: [1] + shape, fortranOrder: isFortranOrder,
                 region: region, source: source)
    }
}
