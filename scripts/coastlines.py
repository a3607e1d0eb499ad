#!/usr/bin/env python3
"""Converts Natural Earth 1:50m land outlines into the compact coastline file `assets/coastlines-50m.bin`.

Provenance: the npm package `world-atlas@2.0.2` (ISC licence, by Mike Bostock) ships Natural Earth's
`ne_50m_land` (public domain) as TopoJSON, `land-50m.json`. Get it from the registry, then run this once:

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python3 scripts/coastlines.py package/land-50m.json assets/coastlines-50m.bin

Every TopoJSON arc of the `land` object is one coastline polyline. The output keeps TopoJSON's quantised,
delta-encoded integers, written as zigzag LEB128 varints:

    b"HQCOAST1"                          magic and version
    4 x f64 little-endian                translate_x, translate_y, scale_x, scale_y
    varint                               number of lines
    per line: varint n, then n pairs of zigzag varints (dx, dy); the first pair is absolute

A point is (translate_x + x * scale_x, translate_y + y * scale_y) in degrees, x and y the running sums.
`crates/harmonyql/src/plot/coast.rs` reads it.
"""

import json
import struct
import sys


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value):
    return (value << 1) ^ (value >> 63) if value < 0 else value << 1


def main(source, target):
    with open(source) as handle:
        topology = json.load(handle)
    transform = topology["transform"]
    arcs = topology["arcs"]
    out = bytearray(b"HQCOAST1")
    out += struct.pack("<4d", *transform["translate"], *transform["scale"])
    out += varint(len(arcs))
    for arc in arcs:
        out += varint(len(arc))
        for dx, dy in arc:
            out += varint(zigzag(dx)) + varint(zigzag(dy))
    with open(target, "wb") as handle:
        handle.write(out)
    points = sum(len(arc) for arc in arcs)
    print(f"{target}: {len(arcs)} lines, {points} points, {len(out)} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
