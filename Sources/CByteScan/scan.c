#include "CByteScan.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t cbytescan_json_string_stop(const uint8_t *p, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8(0x22), backslash = _mm_set1_epi8(0x5C), space = _mm_set1_epi8(0x20);
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        /* A signed compare: a byte at or above 0x80 is negative, so one compare finds it and the controls. */
        __m128i stop = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                    _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(stop);
        if (mask != 0) return i + (size_t)__builtin_ctz(mask);
    }
#endif
    for (; i < n; i++) {
        uint8_t c = p[i];
        if (c == 0x22 || c == 0x5C || c < 0x20 || c >= 0x80) return i;
    }
    return n;
}
