#!/usr/bin/env python3
"""pngstat: prints "WIDTH HEIGHT COLOURS INK" for a PNG file: its size, the
number of distinct colours, and the share of pixels that are not the most
common colour (0 for a blank page). Standard library only (zlib): 8-bit
RGB, RGBA, grey and grey+alpha, not interlaced, which is what Chromium's
screenshots are. Exits 1 with a message for anything else."""
import struct
import sys
import zlib


def main(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or bpp is None or interlace:
        sys.exit(f"{path}: unsupported PNG (depth {depth}, type {ctype})")
    raw, stride = zlib.decompress(idat), w * bpp
    prev, counts = bytearray(stride), {}
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for i in range(0, stride, bpp):
            px = bytes(line[i:i + bpp])
            counts[px] = counts.get(px, 0) + 1
        prev = line
    ink = 1 - max(counts.values()) / (w * h)
    print(w, h, len(counts), f"{ink:.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
