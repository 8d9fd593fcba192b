#ifndef CBYTESCAN_H
#define CBYTESCAN_H
#include <stddef.h>
#include <stdint.h>

/* Byte scans that Swift cannot vectorise: its SIMD16 compares compile to a loop over bytes (docs/performance.md).
   Pure functions over memory the caller owns; no allocation, no system call. */

/* The JSON string whose text starts at p[i] (one past its opening quote), checked by RFC 8259 section 7 with
   strict UTF-8 (Unicode 15 table 3-7): the offset of its closing quote, *escaped set to 1 when it holds a
   backslash (and left alone otherwise); or -1 when the string breaks a rule or is not closed before p[n], for
   the caller's own code to say which. Plain text goes sixteen bytes per step with SSE2 on x86_64 (a quote, a
   backslash, a control character or a byte above 0x7F stops a step), byte by byte elsewhere. */
ptrdiff_t cbytescan_json_string_end(const uint8_t *p, size_t n, size_t i, int *escaped);

#endif
