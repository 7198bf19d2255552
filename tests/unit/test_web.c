/* The web server's pure parts: ULIDs, UTF-8 and field validation, form decoding, HTML escaping,
 * the language choice and the live events' ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blog/model/i18n.h"
#include "blog/model/post.h"
#include "blog/model/ulid.h"
#include "http/http_form.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "blog/web/web_events.h"
#include "http/http_guard.h"
#include "blog/web/web_html.h"

static void ulid_known_vector_and_order(void **state) {
    (void)state;
    uint8_t zero[10] = {0}, ones[10];
    memset(ones, 0xff, sizeof(ones));
    char a[SA_ULID_LEN + 1], b[SA_ULID_LEN + 1];
    sa_ulid_encode(1469918176385ull, zero, a); /* the timestamp example of the ULID spec */
    assert_string_equal(a, "01ARYZ6S410000000000000000");
    sa_ulid_encode(1469918176385ull, ones, b);
    assert_string_equal(b, "01ARYZ6S41ZZZZZZZZZZZZZZZZ");
    assert_true(sa_ulid_valid(a) && sa_ulid_valid(b));
    assert_false(sa_ulid_valid("01ARYZ6S41ZZZZZZZZZZZZZZZ"));  /* 25 characters */
    assert_false(sa_ulid_valid("01ARYZ6S41ZZZZZZZZZZZZZZZI")); /* I is not Crockford */
    assert_false(sa_ulid_valid("81ARYZ6S41ZZZZZZZZZZZZZZZZ")); /* past 2^128 */
    assert_false(sa_ulid_valid(NULL));
    char prev[SA_ULID_LEN + 1] = "";
    for (int i = 0; i < 10000; i++) { /* many in one millisecond: still strictly increasing */
        sa_ulid_new(a);
        assert_true(sa_ulid_valid(a));
        assert_true(strcmp(prev, a) < 0);
        memcpy(prev, a, sizeof(a));
    }
}

static void utf8_and_validation(void **state) {
    (void)state;
    assert_int_equal(sa_utf8_count("Привет", strlen("Привет")), 6);
    assert_int_equal(sa_utf8_count("\xc0\xaf", 2), -1);     /* overlong */
    assert_int_equal(sa_utf8_count("\xed\xa0\x80", 3), -1); /* surrogate */
    assert_int_equal(sa_utf8_count("\xe2\x82", 2), -1);     /* truncated */
    sa_post_input_t in = {strdup("  Title  "), strdup("\nLine one\nLine two\t\n"), NULL, SA_LANG_EN};
    sa_post_errors_t errs;
    assert_int_equal(sa_post_validate(&in, &errs), 0);
    assert_string_equal(in.title, "Title");
    assert_string_equal(in.content, "Line one\nLine two");
    assert_string_equal(in.author, "");
    sa_post_input_clear(&in);

    char *long_title = malloc(SA_POST_TITLE_MAX * 2 + 3);
    for (int i = 0; i < SA_POST_TITLE_MAX + 1; i++) memcpy(long_title + 2 * i, "я", 2);
    long_title[2 * (SA_POST_TITLE_MAX + 1)] = '\0';
    sa_post_input_t bad = {long_title, strdup(""),
                           strdup("a\x01"
                                  "b"),
                           SA_LANG_RU};
    assert_int_equal(sa_post_validate(&bad, &errs), 3);
    assert_int_equal(errs.title, SA_FIELD_TOO_LONG);
    assert_int_equal(errs.content, SA_FIELD_REQUIRED);
    assert_int_equal(errs.author, SA_FIELD_CONTROL);
    char msg[128];
    assert_string_equal(sa_post_field_message(SA_LANG_EN, SA_FIELD_TOO_LONG, 200, msg, sizeof(msg)),
                        "Too long: at most 200 characters.");
    assert_string_equal(sa_post_field_message(SA_LANG_RU, SA_FIELD_REQUIRED, 0, msg, sizeof(msg)),
                        "Это поле обязательно.");
    sa_post_input_clear(&bad);
}

static void form_and_escape(void **state) {
    (void)state;
    const char body[] = "title=Hello+w%C3%B6rld&content=a%26b%3Dc&empty=&bad=%zz%4&title=second";
    char *v = sa_form_get(body, strlen(body), "title");
    assert_string_equal(v, "Hello wörld"); /* the first of repeated fields */
    free(v);
    v = sa_form_get(body, strlen(body), "content");
    assert_string_equal(v, "a&b=c");
    free(v);
    v = sa_form_get(body, strlen(body), "empty");
    assert_string_equal(v, "");
    free(v);
    v = sa_form_get(body, strlen(body), "bad");
    assert_string_equal(v, "%zz%4"); /* bad escapes stay literal */
    free(v);
    assert_null(sa_form_get(body, strlen(body), "missing"));
    assert_null(sa_form_get(body, 5, "content")); /* the length bounds the search */

    sa_buf_t out = SA_BUF_INIT(0);
    sa_html_escape(&out, "<a href=\"x\">Tom & 'Jerry'</a>");
    assert_string_equal(sa_buf_cstr(&out), "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    sa_buf_free(&out);
    char hex[33];
    sa_random_hex(hex, 16);
    assert_true(sa_is_hex(hex, 32));
    assert_false(sa_is_hex("ABC", 32));
    assert_false(sa_is_hex("", 32));
}

static void language_choice(void **state) {
    (void)state;
    assert_int_equal(sa_lang_pick(NULL, NULL), SA_LANG_EN);
    assert_int_equal(sa_lang_pick("ru", "en-US"), SA_LANG_RU);
    assert_int_equal(sa_lang_pick("xx", "ru-RU,ru;q=0.9,en-US;q=0.8"), SA_LANG_RU);
    assert_int_equal(sa_lang_pick(NULL, "de-DE,en;q=0.7,ru;q=0.3"), SA_LANG_EN);
    assert_int_equal(sa_lang_pick(NULL, "de-DE,ru;q=0.5"), SA_LANG_RU);
    assert_string_equal(sa_i18n(SA_LANG_RU, SA_MSG_QUEUED_NOTICE), "Пост отправлен в очередь на создание");
    assert_string_equal(sa_i18n_status(SA_LANG_EN, "rejected"), "rejected");
}

static int notified;
static void count_notify(void *opaque) {
    (void)opaque;
    notified++;
}

/* The live events' ring: sequence numbers, long fields left out, a client from an earlier run or
 * one that fell behind the ring. (The posts themselves: tests/unit/test_db.c.) */
static void event_ring(void **state) {
    (void)state;
    sa_web_events_t *ev = sa_web_events_new(count_notify, NULL);
    json_t *post = json_pack("{s:s, s:s, s:s, s:o}", "id", "01ARYZ6S410000000000000001", "status", "queued",
                             "content", "long text", "metrics", json_object());
    sa_web_events_emit(ev, "post", post);
    json_object_set_new(post, "status", json_string("published"));
    sa_web_events_emit(ev, "status", post);
    assert_int_equal(sa_web_events_seq(ev), 2);
    assert_int_equal(notified, 2);
    char buf[4096];
    uint64_t seq = 0;
    size_t n = sa_web_events_after(ev, &seq, buf, sizeof(buf) - 1);
    buf[n] = '\0';
    assert_int_equal(seq, 2);
    assert_non_null(strstr(buf, "id: 1\nevent: post\ndata: {"));
    assert_non_null(strstr(buf, "id: 2\nevent: status\n"));
    assert_null(strstr(buf, "\"content\"")); /* events leave the text out */
    assert_null(strstr(buf, "\"metrics\""));
    seq = 99; /* an id from an earlier run: nothing replayed */
    assert_int_equal(sa_web_events_after(ev, &seq, buf, sizeof(buf)), 0);
    for (int i = 0; i < 3000; i++) sa_web_events_emit(ev, "post", post);
    seq = 1; /* fell behind: skips to the oldest kept event */
    n = sa_web_events_after(ev, &seq, buf, sizeof(buf));
    assert_true(n > 0);
    assert_true(seq > 3002 - 1024);
    json_decref(post);
    sa_web_events_free(ev);
}

static void reason_templates(void **state) {
    (void)state;
    char out[256];
    json_t *p = json_pack("{s:i, s:i}", "words", 1, "min", 10);
    assert_string_equal(
        sa_i18n_format(SA_LANG_RU, sa_i18n_reason(SA_LANG_RU, "TOO_SHORT"), p, out, sizeof(out)),
        "Очень коротко: 1 слово (в полноценном посте хотя бы 10).");
    assert_string_equal(
        sa_i18n_format(SA_LANG_EN, sa_i18n_reason(SA_LANG_EN, "TOO_SHORT"), p, out, sizeof(out)),
        "Very short: 1 word (a full post has at least 10).");
    static const struct {
        int n;
        const char *ru;
    } forms[] = {{2, "слова"}, {5, "слов"}, {11, "слов"}, {21, "слово"}, {22, "слова"}, {112, "слов"}};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        json_object_set_new(p, "words", json_integer(forms[i].n));
        sa_i18n_format(SA_LANG_RU, "{words:слово|слова|слов}", p, out, sizeof(out));
        assert_string_equal(out, forms[i].ru);
    }
    json_decref(p);
    p = json_pack("{s:f, s:s, s:i}", "readability", 25.2, "formula", "oborneva", "min", 30);
    sa_i18n_format(SA_LANG_RU, sa_i18n_reason(SA_LANG_RU, "HARD_TO_READ"), p, out, sizeof(out));
    assert_non_null(strstr(out, "25.2 по формуле Оборневой"));
    json_decref(p);
    assert_string_equal(sa_i18n_format(SA_LANG_EN, "{missing} x", NULL, out, sizeof(out)), "? x");
    assert_null(sa_i18n_reason(SA_LANG_EN, "NO_SUCH_CODE"));
    /* every code the worker writes has a template in both languages */
    static const char *const codes[] = {"EMPTY",           "NEAR_DUPLICATE", "REPETITIVE",   "TOO_SHORT",
                                        "SPAM_PHRASE",     "TOO_MANY_LINKS", "SHOUTING",     "REPEATED_CHARS",
                                        "PUNCTUATION_RUN", "HARD_TO_READ",   "LANG_MISMATCH"};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(sa_i18n_reason(SA_LANG_EN, codes[i]));
        assert_non_null(sa_i18n_reason(SA_LANG_RU, codes[i]));
    }
}

static void links_and_excerpts(void **state) {
    (void)state;
    sa_buf_t b = SA_BUF_INIT(0);
    sa_html_linkify(&b, "See https://x.org/a?b=1&c=2. Or javascript:alert(1) <b>x</b> http:// alone");
    assert_string_equal(sa_buf_cstr(&b),
                        "See <a href=\"https://x.org/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\" "
                        "target=\"_blank\">https://x.org/a?b=1&amp;c=2</a>. Or javascript:alert(1) "
                        "&lt;b&gt;x&lt;/b&gt; http:// alone");
    sa_buf_reset(&b);
    sa_html_linkify(&b, "(http://a.b/\"onmouseover=x)");
    assert_null(strstr(sa_buf_cstr(&b), "\"onmouseover")); /* a quote ends the URL, and is escaped */
    sa_buf_free(&b);
    assert_int_equal(sa_html_excerpt_len("short text", 200), 10);
    const char *ru = "Привет мир и все остальные";
    size_t n = sa_html_excerpt_len(ru, 10); /* cut at the space before "и", never inside a letter */
    assert_int_equal(n, strlen("Привет мир"));
}

static void origin_rule(void **state) {
    (void)state;
    sa_strlist_t allowed = {0};
    sa_strlist_add(&allowed, "https://blog.example.org");
    assert_int_equal(sa_http_guard_origin("http://127.0.0.1:8080", NULL, "127.0.0.1:8080", &allowed),
                     SA_HTTP_ORIGIN_OK);
    assert_int_equal(sa_http_guard_origin("https://127.0.0.1:8080", NULL, "127.0.0.1:8080", &allowed),
                     SA_HTTP_ORIGIN_OK);
    assert_int_equal(sa_http_guard_origin("http://127.0.0.1:8081", NULL, "127.0.0.1:8080", &allowed),
                     SA_HTTP_ORIGIN_FOREIGN);
    assert_int_equal(sa_http_guard_origin("null", NULL, "127.0.0.1:8080", &allowed), SA_HTTP_ORIGIN_FOREIGN);
    assert_int_equal(sa_http_guard_origin("https://blog.example.org", "cross-site", "x", &allowed),
                     SA_HTTP_ORIGIN_OK);
    assert_int_equal(sa_http_guard_origin(NULL, "cross-site", "x", &allowed), SA_HTTP_ORIGIN_CROSS_SITE);
    assert_int_equal(sa_http_guard_origin(NULL, "same-site", "x", &allowed), SA_HTTP_ORIGIN_CROSS_SITE);
    assert_int_equal(sa_http_guard_origin(NULL, "same-origin", "x", &allowed), SA_HTTP_ORIGIN_OK);
    assert_int_equal(sa_http_guard_origin(NULL, NULL, NULL, &allowed), SA_HTTP_ORIGIN_OK); /* not a browser */
    assert_int_equal(sa_http_guard_origin("http://evil.example", NULL, NULL, NULL), SA_HTTP_ORIGIN_FOREIGN);
    sa_strlist_free(&allowed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ulid_known_vector_and_order),
        cmocka_unit_test(utf8_and_validation),
        cmocka_unit_test(form_and_escape),
        cmocka_unit_test(language_choice),
        cmocka_unit_test(event_ring),
        cmocka_unit_test(reason_templates),
        cmocka_unit_test(links_and_excerpts),
        cmocka_unit_test(origin_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
