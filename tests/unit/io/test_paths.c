/* Router files at non-ASCII UTF-8 paths: saved, read back with the bytes av_router_save_buffer
   gives, replaced in place (the old file complete until the new one is), no temporary file left
   beside it, and a directory at the path refused. On Windows this goes through the wide-character
   calls and MoveFileExW (src/io/file.c, docs/PORTABILITY.md); elsewhere through the bytes. */
#include "avengers/avengers.h"
#include "harness.h"
#include "tiny.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <direct.h>
#include <windows.h>
#define make_dir(p) _mkdir(p)
#define remove_dir(p) _rmdir(p)
static char *make_temp_dir(char *t)
{
    return _mktemp_s(t, strlen(t) + 1) == 0 && _mkdir(t) == 0 ? t : NULL;
}
/* remove() takes the ANSI code page: a UTF-8 name goes through _wremove */
static int remove_utf8(const char *path)
{
    wchar_t w[256];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, 256) <= 0)
        return -1;
    return _wremove(w);
}
#define TEMP_BASE (getenv("TEMP") ? getenv("TEMP") : ".")
#else
#include <sys/stat.h>
#include <unistd.h>
#define make_dir(p) mkdir(p, 0755)
#define remove_dir(p) rmdir(p)
#define make_temp_dir mkdtemp
#define remove_utf8 remove
#define TEMP_BASE "/tmp"
#endif

/* "routeur-é-日本.avr" in UTF-8 */
#define UTF8_NAME "routeur-\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac.avr"

static char dir[512];

static unsigned char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb"); /* a POSIX name, or (Windows) an ASCII one */
    if (!f)
        return NULL;
    unsigned char *buf = malloc(1 << 20);
    *n = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    return buf;
}

/* The router's file at `path` holds what av_router_save_buffer gives. */
static int same_as_buffer(const av_router *r, const char *path)
{
    void *want = NULL;
    size_t n = 0;
    av_router *back = NULL;
    if (av_router_save_buffer(r, &want, &n) != AV_OK)
        return 0;
    void *got = NULL;
    size_t m = 0;
    int ok = av_router_load(&back, path) == AV_OK && av_router_save_buffer(back, &got, &m) == AV_OK &&
             m == n && memcmp(got, want, n) == 0;
    av_free(want);
    av_free(got);
    av_router_free(back);
    return ok;
}

TEST(test_utf8_path_saved_loaded_and_replaced)
{
    char path[600];
    snprintf(path, sizeof path, "%s/" UTF8_NAME, dir);
    av_router *r = tiny_router(1);
    REQUIRE(r);
    CHECK_EQ_INT(av_router_save(r, path), AV_OK);
    CHECK(same_as_buffer(r, path));
    /* replaced: a router with other statistics over the existing file */
    CHECK_EQ_INT(av_router_set_meta(r, "note", "second save"), AV_OK);
    CHECK_EQ_INT(av_router_save(r, path), AV_OK);
    CHECK(same_as_buffer(r, path));
    av_router *back = NULL;
    REQUIRE(av_router_load(&back, path) == AV_OK);
    const char *note = av_router_meta(back, "note");
    CHECK(note && strcmp(note, "second save") == 0);
    av_router_free(back);
    av_router_free(r);
}

TEST(test_ascii_path_bytes_equal_buffer)
{
    char path[600];
    snprintf(path, sizeof path, "%s/plain.avr", dir);
    av_router *r = tiny_router(2);
    REQUIRE(r);
    REQUIRE(av_router_save(r, path) == AV_OK);
    void *want = NULL;
    size_t n = 0, m = 0;
    REQUIRE(av_router_save_buffer(r, &want, &n) == AV_OK);
    unsigned char *got = read_all(path, &m);
    CHECK(got && m == n && memcmp(got, want, n) == 0);
    free(got);
    av_free(want);
    av_router_free(r);
}

TEST(test_directory_refused)
{
    char path[600];
    snprintf(path, sizeof path, "%s/sub.avr", dir);
    REQUIRE(make_dir(path) == 0);
    av_router *r = tiny_router(1), *back = NULL;
    REQUIRE(r);
    CHECK_EQ_INT(av_router_save(r, path), AV_EIO);
    CHECK(strstr(av_last_error(), "not a regular file") != NULL);
    CHECK_EQ_INT(av_router_load(&back, path), AV_EIO);
    CHECK(back == NULL);
    av_router_free(r);
    CHECK(remove_dir(path) == 0);
}

TEST(test_missing_directory_refused)
{
    char path[600];
    snprintf(path, sizeof path, "%s/no-such-dir/x.avr", dir);
    av_router *r = tiny_router(1);
    REQUIRE(r);
    CHECK_EQ_INT(av_router_save(r, path), AV_EIO);
    CHECK(strstr(av_last_error(), "temporary file") != NULL);
    av_router_free(r);
}

/* Only the saved files are left (each save renamed or removed its temporary file, also the
   refused one): after removing the two, rmdir succeeds only on an empty directory. */
TEST(test_no_temporary_file_left)
{
    char path[600];
    snprintf(path, sizeof path, "%s/" UTF8_NAME, dir);
    CHECK(remove_utf8(path) == 0);
    snprintf(path, sizeof path, "%s/plain.avr", dir);
    CHECK(remove(path) == 0);
    CHECK(remove_dir(dir) == 0);
}

int main(int argc, char **argv)
{
    snprintf(dir, sizeof dir, "%s/av_paths_XXXXXX", TEMP_BASE);
    if (!make_temp_dir(dir)) {
        printf("cannot make a temporary directory\n0 passed, 1 failed\n");
        return 1;
    }
    static const th_test tests[] = {T(test_utf8_path_saved_loaded_and_replaced),
                                    T(test_ascii_path_bytes_equal_buffer), T(test_directory_refused),
                                    T(test_missing_directory_refused),
                                    T(test_no_temporary_file_left)};
    return th_run(tests, sizeof tests / sizeof tests[0], argc, argv);
}
