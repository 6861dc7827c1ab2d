"""One list of compiler flags for all of Tandem's C code."""

COPTS = [
    "-std=c11",
    "-D_GNU_SOURCE",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wformat=2",
    "-Wshadow",
    "-Wno-unused-parameter",
    "-Wno-missing-field-initializers",
]
