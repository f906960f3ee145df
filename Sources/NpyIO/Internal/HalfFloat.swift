/// IEEE 754 binary16 ↔ binary32 conversion by bit manipulation (branch-light, vectorisable).
enum HalfFloat {
    /// Exact widening of half bits to Float: zeros, subnormals (renormalised), normals, ±inf, and NaN
    /// (sign and payload kept, shifted into the top mantissa bits).
    ///
    /// Method (F. Giesen): move exponent+mantissa up by 13 bits and rebias by 112; inf/NaN get the
    /// exponent forced to 255; zero/subnormal are renormalised by subtracting 2^-14 as a float.
    @inline(__always)
    static func toFloat(_ bits: UInt16) -> Float {
        let magnitude = UInt32(bits & 0x7FFF) << 13
        let exponent = magnitude & 0x0F80_0000
        var result = magnitude &+ 0x3800_0000  // rebias (127 - 15) << 23
        if exponent == 0x0F80_0000 {
            result = result &+ 0x3800_0000     // inf / NaN: exponent to 255
        } else if exponent == 0 {
            // zero / subnormal: value = mantissa · 2^-24 = (float with exponent 113) - 2^-14
            result = (Float(bitPattern: result &+ 0x0080_0000) - Float(bitPattern: 0x3880_0000)).bitPattern
        }
        return Float(bitPattern: result | UInt32(bits & 0x8000) << 16)
    }
}
