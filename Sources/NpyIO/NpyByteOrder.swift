/// The byte order of an array's elements as they lie in memory or in the file.
///
/// `notApplicable` is numpy's `|`: single-byte types (bool, int8, uint8, `S<n>`).
/// numpy's `=` (native) is resolved to `little` when read (NpyIO supports little-endian hosts only).
public enum NpyByteOrder: Sendable, Hashable {
    case little, big, notApplicable
}
