#include "CByteScan.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static inline int is_hex(uint8_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }
static inline int is_continuation(uint8_t c) { return (c & 0xC0) == 0x80; }

ptrdiff_t cbytescan_json_string_end(const uint8_t *p, size_t n, size_t i, int *escaped) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C), space = _mm_set1_epi8(0x20);
#endif
    for (;;) {
        /* To the next byte to look at: sixteen at a time, then one at a time for the last fifteen of the body.
           One loop for the whole string: prose with accents stops every few bytes, and a call or a loop set up
           again per stop cost more than the bytes (callgrind). */
#if defined(__SSE2__)
        if (i + 16 <= n) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
            __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                        _mm_cmplt_epi8(v, space));
            unsigned mask = (unsigned)_mm_movemask_epi8(stop);
            if (mask == 0) { i += 16; continue; }
            i += (size_t)__builtin_ctz(mask);
        } else
#endif
        {
            while (i < n && p[i] != 0x22 && p[i] != 0x5C && p[i] >= 0x20 && p[i] < 0x80) i++;
            if (i >= n) return -1;
        }
        uint8_t c = p[i];
        if (c >= 0xC2 && c <= 0xDF) {
            /* The most frequent stop in text with accents: a two-byte sequence. */
            if (i + 1 < n && is_continuation(p[i + 1])) { i += 2; continue; }
            return -1;
        }
        if (c == 0x22) return (ptrdiff_t)i;
        if (c == 0x5C) {
            *escaped = 1;
            if (i + 1 >= n) return -1;
            switch (p[i + 1]) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                i += 2;
                continue;
            case 'u':
                /* Any four hex digits: a lone surrogate is grammatical (RFC 8259 section 8.2). */
                if (i + 6 <= n && is_hex(p[i + 2]) && is_hex(p[i + 3]) && is_hex(p[i + 4]) && is_hex(p[i + 5])) {
                    i += 6;
                    continue;
                }
                return -1;
            default:
                return -1;
            }
        }
        if (c < 0x20) return -1;
        /* A longer UTF-8 sequence, by Unicode 15 table 3-7: no overlong forms, no surrogates, nothing above
           U+10FFFF. */
        if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n) return -1;
            uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF, c1 = p[i + 1];
            if (c1 < lo || c1 > hi || !is_continuation(p[i + 2])) return -1;
            i += 3;
            continue;
        }
        if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n) return -1;
            uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF, c1 = p[i + 1];
            if (c1 < lo || c1 > hi || !is_continuation(p[i + 2]) || !is_continuation(p[i + 3])) return -1;
            i += 4;
            continue;
        }
        return -1;   /* 0x80-0xC1 or 0xF5-0xFF: never the first byte of a sequence */
    }
}
