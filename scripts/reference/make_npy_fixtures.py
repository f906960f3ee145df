#!/usr/bin/env python3
"""Writes the NpyIO test fixtures into fixtures/npy/ with numpy itself.

Re-record with:  python3 scripts/reference/make_npy_fixtures.py
Deterministic (no randomness, fixed zip timestamps). Writes:
  valid/*.npy         every dtype in both byte orders, Fortran 2-D/3-D, 0-d, zero-size, v1/v2/v3,
                      16-byte-aligned and unpadded headers
  valid/*.npz         stored, deflated, data-descriptor, ZIP64, and suffix-less member archives
  bad/*.npy, bad/*.npz  one malformed file per error class (see BAD below)
  expected.json       for every valid file: dtype name, descr, shape, fortran flag, data bytes (hex),
                      and the values numpy reads (C order, as strings) or the string scalar
  MANIFEST.json       script, numpy and python versions, and what each bad file breaks
"""
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "npy")
VALID = os.path.join(ROOT, "valid")
BAD = os.path.join(ROOT, "bad")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def npy_bytes(a, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def value_strings(a):
    """Elements in C order as strings numpy (and Swift's Double(String)) agree on."""
    flat = np.ascontiguousarray(a).reshape(-1)
    if a.dtype.kind == "b":
        return ["1" if v else "0" for v in flat]
    if a.dtype.kind in "iu":
        return [str(int(v)) for v in flat]
    if a.dtype.kind == "f":
        return [repr(float(v)) for v in flat]
    if a.dtype.kind == "c":
        return [[repr(float(v.real)), repr(float(v.imag))] for v in flat]
    return None


def describe(a, data):
    entry = {
        "dtype": a.dtype.name,
        "descr": a.dtype.str,
        "shape": list(a.shape),
        "fortran_order": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
        "data_hex": data.hex(),
    }
    values = value_strings(a)
    if values is not None:
        entry["values"] = values
    elif a.size == 1:
        entry["string"] = a.reshape(()).item().decode("utf-8") if a.dtype.kind == "S" else str(a.reshape(()).item())
    return entry


def data_of(a):
    """The data bytes np.save writes: Fortran order when the array is Fortran-only contiguous."""
    fortran = a.flags.f_contiguous and not a.flags.c_contiguous
    return a.tobytes(order="F" if fortran else "C")


def base_values(kind, size):
    if kind == "b":
        return np.array([True, False, True, True, False, False, True, False])
    if kind in "iu":
        info = np.iinfo(f"{kind}{size}")
        return np.array([0, 1, 2, info.max, info.min, 7, info.max - 1, 100 % (info.max + 1)], dtype=f"{kind}{size}")
    if kind == "f":
        info = np.finfo(f"f{size}")
        return np.array([0.0, -0.0, 1.5, -2.25, np.nan, np.inf, -np.inf, info.smallest_subnormal,
                         info.max, info.tiny, 1 / 3, -1e-3], dtype=f"f{size}")
    if kind == "c":
        return np.array([1 + 2j, -0.5j, np.nan + 1j, 3.25], dtype=f"c{size}")
    raise ValueError(kind)


def valid_arrays():
    out = {}
    for kind, sizes in [("b", [1]), ("i", [1, 2, 4, 8]), ("u", [1, 2, 4, 8]), ("f", [2, 4, 8]), ("c", [8, 16])]:
        for size in sizes:
            a = base_values(kind, size)
            if a.size % 4 == 0:
                a = a.reshape(-1, 4)
            name = np.dtype(f"{kind}{size}").name
            out[f"{name}_le"] = a.astype(a.dtype.newbyteorder("<"))
            if size > 1:
                out[f"{name}_be"] = a.astype(a.dtype.newbyteorder(">"))
    out["unicode_le"] = np.array(["héllo", "✓", ""], dtype="<U5")
    out["unicode_be"] = np.array(["héllo", "✓", ""], dtype=">U5")
    out["bytes"] = np.array([b"ab", b"", b"xyz"], dtype="S3")
    out["string_0d"] = np.array("fusion ✓")
    out["bytes_0d"] = np.array(b"config")
    out["float64_0d"] = np.array(2.5)
    out["int64_0d_be"] = np.array(-42, dtype=">i8")
    out["fortran_2d_f32"] = np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4))
    out["fortran_3d_i16_be"] = np.asfortranarray(np.arange(24, dtype=">i2").reshape(2, 3, 4))
    out["fortran_3d_f64"] = np.asfortranarray(np.arange(60, dtype="<f8").reshape(3, 4, 5) / 8)
    out["empty_0x3_f32"] = np.zeros((0, 3), dtype="<f4")
    out["empty_2x0x4_i32_be"] = np.zeros((2, 0, 4), dtype=">i4")
    out["empty_1d_f16"] = np.zeros((0,), dtype="<f2")
    return out


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def raw_npy(header_text, data, major=1, pad_to=None, newline=True):
    """A .npy image with a hand-made header (numpy's reader accepts these)."""
    text = header_text.encode("latin1")
    if newline:
        text += b"\n"
    if pad_to:
        pre = 10 if major == 1 else 12
        while (pre + len(text)) % pad_to:
            text = text[:-1] + b" \n" if newline else text + b" "
    length = struct.pack("<H" if major == 1 else "<I", len(text))
    return b"\x93NUMPY" + bytes([major, 0]) + length + text + data


def zip_member_bytes(arrays):
    return {name: npy_bytes(a) for name, a in arrays.items()}


class Unseekable(io.RawIOBase):
    """A write-only stream without seek/tell, so zipfile writes data descriptors (flag bit 3)."""

    def __init__(self):
        self.buffer = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buffer += b
        return len(b)


def zip_with_descriptors(members, compression):
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", compression=compression) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = compression
            with z.open(info, "w") as f:
                f.write(data)
    return bytes(sink.buffer)


def zip_python(members, compression, force_zip64=True):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = compression
            with z.open(info, "w", force_zip64=force_zip64) as f:
                f.write(data)
    return buf.getvalue()


def zip64_everywhere(members):
    """A stored zip that uses ZIP64 for every size and offset and a ZIP64 end record, as a writer
    must for archives over 4 GiB (made small here by marking every field 0xFFFFFFFF)."""
    out = bytearray()
    central = bytearray()
    for name, data in members.items():
        nb = name.encode()
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra))
        out += nb + extra + data
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(nb), len(cextra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + cextra
    cd_offset = len(out)
    out += central
    record = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, record, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def patch(data, offset, new):
    return data[:offset] + new + data[offset + len(new):]


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(VALID)
    os.makedirs(BAD)
    expected = {}

    for name, a in valid_arrays().items():
        write(os.path.join(VALID, name + ".npy"), npy_bytes(a))
        expected[f"valid/{name}.npy"] = describe(a, data_of(a))

    versions = np.arange(6, dtype="<f4").reshape(2, 3)
    for major in (1, 2, 3):
        write(os.path.join(VALID, f"version_{major}.npy"), npy_bytes(versions, version=(major, 0)))
        expected[f"valid/version_{major}.npy"] = describe(versions, data_of(versions))
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    for name, blob in [
        ("align16", raw_npy(header, versions.tobytes(), pad_to=16)),
        ("no_padding", raw_npy(header, versions.tobytes())),
        ("no_newline", raw_npy(header, versions.tobytes(), newline=False)),
        ("keys_reordered", raw_npy("{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f4\"}", versions.tobytes())),
        ("native_order", raw_npy("{'descr': '=f4', 'fortran_order': False, 'shape': (2, 3)}", versions.tobytes())),
    ]:
        loaded = np.load(io.BytesIO(blob))
        assert np.array_equal(loaded, versions), name
        write(os.path.join(VALID, name + ".npy"), blob)
        expected[f"valid/{name}.npy"] = describe(loaded, data_of(loaded))

    members = {
        "weights": np.arange(12, dtype="<f4").reshape(3, 4) / 2,
        "bias": np.array([1, -1], dtype=">f8"),
        "config": np.array('{"proj_dim": 4}'),
    }
    blobs = zip_member_bytes(members)
    buf = io.BytesIO()
    np.savez(buf, **members)
    archives = {"stored.npz": buf.getvalue()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **members)
    archives["deflated.npz"] = buf.getvalue()
    named = {k + ".npy": v for k, v in blobs.items()}
    archives["descriptor_stored.npz"] = zip_with_descriptors(named, zipfile.ZIP_STORED)
    archives["descriptor_deflated.npz"] = zip_with_descriptors(named, zipfile.ZIP_DEFLATED)
    archives["zip64.npz"] = zip64_everywhere(named)
    archives["no_suffix.npz"] = zip_python(blobs, zipfile.ZIP_STORED, force_zip64=False)
    archives["empty.npz"] = zip_python({}, zipfile.ZIP_STORED)
    for name, blob in archives.items():
        loaded = np.load(io.BytesIO(blob))
        assert sorted(loaded.files) == (sorted(members) if name != "empty.npz" else []), name
        write(os.path.join(VALID, name), blob)
        expected[f"valid/{name}"] = {
            "members": {k: describe(loaded[k], data_of(loaded[k])) for k in loaded.files},
            "member_order": list(loaded.files),
        }

    bad = make_bad(blobs, archives)
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    manifest = {
        "script": "scripts/reference/make_npy_fixtures.py",
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "zlib": zlib.ZLIB_VERSION,
        "bad": bad,
    }
    with open(os.path.join(ROOT, "MANIFEST.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


def make_bad(blobs, archives):
    """One malformed file per error class; returns {file: what is wrong}."""
    good = npy_bytes(np.arange(6, dtype="<f4").reshape(2, 3))
    header = lambda text: raw_npy(text, np.zeros(6, "<f4").tobytes())
    cases = {
        "bad_magic.npy": (b"\x93NUMPZ" + good[6:], "magic is \\x93NUMPZ"),
        "bad_version.npy": (good[:6] + b"\x04\x00" + good[8:], "format version 4.0"),
        "header_too_long.npy": (raw_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" + " " * 10001,
                                        np.zeros(6, "<f4").tobytes(), major=2), "header of 10,061 bytes (> 10,000)"),
        "header_syntax.npy": (header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)"), "dict not closed"),
        "header_not_dict.npy": (header("('<f4', False, (2, 3))"), "header is a tuple"),
        "header_missing_key.npy": (header("{'descr': '<f4', 'shape': (2, 3)}"), "no fortran_order"),
        "header_extra_key.npy": (header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 0}"), "extra key"),
        "header_bad_fortran.npy": (header("{'descr': '<f4', 'fortran_order': 'no', 'shape': (2, 3)}"), "fortran_order is a string"),
        "header_negative_shape.npy": (header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3)}"), "negative dimension"),
        "descr_unknown.npy": (header("{'descr': '<f5', 'fortran_order': False, 'shape': (2, 3)}"), "descr <f5"),
        "descr_object.npy": (header("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3)}"), "object dtype"),
        "descr_structured.npy": (header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3)}"), "structured dtype"),
        "shape_overflow.npy": (header("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"), "element count overflows"),
        "truncated_data.npy": (good[:-5], "5 data bytes missing"),
        "trailing_data.npy": (good + b"\0\0\0", "3 bytes after the data"),
        "truncated_header.npy": (good[:40], "file ends inside the header"),
    }
    stored = archives["stored.npz"]
    deflated = archives["deflated.npz"]
    first_data = 30 + len("weights.npy") + 20 + 128  # local header + name + ZIP64 extra + npy header
    crc_broken = patch(stored, first_data + 3, bytes([stored[first_data + 3] ^ 0x40]))
    cd = stored.index(b"PK\x01\x02")
    # a stored member whose declared sizes (both directories) are 8 bytes short of the real ones
    size_short = patch(stored, cd + 20, struct.pack("<II", len(blobs["weights"]) - 8, len(blobs["weights"]) - 8))
    # a deflated member that inflates far beyond its declared size
    bomb_member = zlib.compressobj(6, zlib.DEFLATED, -15)
    bomb_raw = npy_bytes(np.zeros(1 << 20, "<f8"))
    bomb_data = bomb_member.compress(bomb_raw) + bomb_member.flush()
    bomb = bytearray()
    nb = b"bomb.npy"
    crc = zlib.crc32(bomb_raw) & 0xFFFFFFFF
    bomb += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(bomb_data), 4096, len(nb), 0) + nb + bomb_data
    cd_offset = len(bomb)
    bomb += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(bomb_data), 4096, len(nb), 0, 0, 0, 0, 0, 0) + nb
    bomb += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(bomb) - cd_offset, cd_offset, 0)
    # a deflated member declaring 8 more uncompressed bytes than it inflates to (both headers agree)
    dcd = deflated.index(b"PK\x01\x02")
    real = struct.unpack_from("<I", deflated, dcd + 24)[0]
    local_extra = 30 + len("weights.npy") + 4  # numpy's local ZIP64 extra: uncompressed, compressed
    deflated_short = patch(deflated, dcd + 24, struct.pack("<I", real + 8))
    deflated_short = patch(deflated_short, local_extra, struct.pack("<Q", real + 8))
    # method 12 (bzip2) in both headers
    method = patch(patch(stored, 8, struct.pack("<H", 12)), cd + 10, struct.pack("<H", 12))
    not_npy = zip_python({"readme.txt": b"this member is text, not an array\n", **blobs}, zipfile.ZIP_STORED, force_zip64=False)
    local_mismatch = patch(stored, 30, b"W")
    cases.update({
        "crc_mismatch.npz": (crc_broken, "a data byte of 'weights' flipped"),
        "size_mismatch.npz": (size_short, "'weights' declared 8 bytes shorter in the central directory"),
        "size_mismatch_deflated.npz": (deflated_short, "'weights' declares 8 more uncompressed bytes than it inflates to"),
        "unsupported_method.npz": (method, "'weights' says compression method 12 (bzip2)"),
        "zip_bomb.npz": (bomb, "'bomb' declares 4096 bytes and inflates to 8 MiB"),
        "not_npy_member.npz": (not_npy, "member 'readme.txt' is text"),
        "truncated.npz": (stored[: len(stored) // 2], "second half missing (no end record)"),
        "local_name_mismatch.npz": (local_mismatch, "local header of 'weights.npy' says 'Weights.npy'"),
        "bad_npy_member.npz": (zip_python({"x.npy": header("{'descr': '|O', 'fortran_order': False, 'shape': (2, 3)}")}, zipfile.ZIP_STORED), "member holds an object-dtype .npy"),
    })
    for name, (blob, _) in cases.items():
        write(os.path.join(BAD, name), blob)
    return {name: why for name, (_, why) in cases.items()}


if __name__ == "__main__":
    main()
