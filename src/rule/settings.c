/* The router's routing settings (the estimator defaults: shrinkage, cluster weighting, the guard,
   the normalisation): validation, the public get/set, and their typed section of the file
   (docs/FORMAT.md, section 5). 0.x stored them as metadata strings, where a user could overwrite
   them; a file of that kind is read once here and its keys never reach the user's metadata. */
#include "rule/rule.h"

#include <math.h>
#include <string.h>

/* Section 5 records: id, flags, a zero word, the value. */
#define AV_SETTING_RECORD 16u
#define AV_SETTING_CRITICAL 1u /* a reader that does not know the id must refuse the file */
#define AV_SETTINGS_MAX 64u
enum {
    SET_KAPPA = 1,        /* f64 */
    SET_WEIGHTING = 2,    /* u64: AV_WEIGHTING_HARD or _SOFTMAX */
    SET_TEMPERATURE = 3,  /* f64 holding the float */
    SET_GUARD = 4,        /* u64: 0 or 1 */
    SET_GUARD_MARGIN = 5, /* f64 */
    SET_NORMALISATION = 6, /* u64: AV_NORMALISE_CLUSTER or _GLOBAL */
    SET_SAFETY = 7         /* f64, written only when not 0 (1.1; older readers refuse it) */
};
#define SET_LAST SET_SAFETY
/* Records every file with a settings section has (1.0's six); later ones only when set. */
#define SET_ALWAYS SET_NORMALISATION

/* The metadata keys of 0.x files, read as settings (the first six) or dropped (derived). */
static const char *const legacy_keys[] = {"kappa", "weighting", "temperature", "guard",
                                          "guard_margin", "normalisation", "centroid_hash",
                                          "members"};
_Static_assert(sizeof legacy_keys / sizeof legacy_keys[0] == AV_LEGACY_KEYS,
               "AV_LEGACY_KEYS (rule.h) counts these keys");

int av__settings_check(const av_estimator_options *o)
{
    if (!(o->kappa >= 0.0) || !isfinite(o->kappa))
        return av__fail(AV_EINVAL, "kappa=%g must be finite and >= 0", o->kappa);
    if (o->weighting != AV_WEIGHTING_HARD && o->weighting != AV_WEIGHTING_SOFTMAX)
        return av__fail(AV_EINVAL, "weighting=%u (hard=%u or softmax=%u)", o->weighting,
                        AV_WEIGHTING_HARD, AV_WEIGHTING_SOFTMAX);
    if (!(o->temperature > 0.0f) || !isfinite(o->temperature))
        return av__fail(AV_EINVAL, "temperature=%g must be finite and > 0", (double)o->temperature);
    if (o->guard > 1u || !isfinite(o->guard_margin))
        return av__fail(AV_EINVAL, "guard=%u (0 or 1), guard_margin=%g (finite)", o->guard,
                        o->guard_margin);
    if (o->normalisation != AV_NORMALISE_CLUSTER && o->normalisation != AV_NORMALISE_GLOBAL)
        return av__fail(AV_EINVAL, "normalisation=%u (cluster=%u or global=%u)", o->normalisation,
                        AV_NORMALISE_CLUSTER, AV_NORMALISE_GLOBAL);
    if (!(o->safety >= 0.0))
        return av__fail(AV_EINVAL, "safety=%g must be >= 0 (standard errors; +inf allowed)",
                        o->safety);
    return AV_OK;
}

void av__settings_apply(av_estimator_state *e, const av_estimator_options *o)
{
    /* -0 is stored as 0 (x + 0.0): the two decide alike, and a router whose settings are the
       paper's has no settings section, so it must read back bit for bit as it was */
    e->kappa = o->kappa + 0.0;
    e->weighting = o->weighting;
    e->temperature = o->temperature;
    e->guard = o->guard;
    e->guard_margin = o->guard_margin + 0.0;
    e->normalisation = o->normalisation;
    e->safety = o->safety + 0.0;
}

void av__settings_current(const av_estimator_state *e, av_estimator_options *o)
{
    av_estimator_options_init(o);
    o->kappa = e->kappa;
    o->weighting = e->weighting ? e->weighting : AV_WEIGHTING_HARD;
    o->temperature = e->temperature > 0.0f ? e->temperature : AV_DEFAULT_TEMPERATURE;
    o->guard = e->guard;
    o->guard_margin = e->guard_margin;
    o->normalisation = e->normalisation ? e->normalisation : AV_NORMALISE_CLUSTER;
    o->safety = e->safety;
}

/* ---------------------------------------------------------------------------------------------
 * The file's settings section
 * ------------------------------------------------------------------------------------------- */
bool av__settings_stored(const av_estimator_state *e)
{
    av_estimator_options o, paper;
    av__settings_current(e, &o);
    av_estimator_options_init(&paper);
    return o.kappa != paper.kappa || o.weighting != paper.weighting ||
           o.temperature != paper.temperature || o.guard != paper.guard ||
           o.guard_margin != paper.guard_margin || o.normalisation != paper.normalisation ||
           o.safety != paper.safety;
}

/* The records written: 1.0's six, then each later one only when it differs from 0, so that a
   file which does not use a later setting stays readable by 1.0. */
static size_t records(const av_estimator_options *o)
{
    return o->safety != 0.0 ? SET_SAFETY : SET_ALWAYS;
}

size_t av__settings_bytes(const av_estimator_state *e)
{
    av_estimator_options o;
    av__settings_current(e, &o);
    return 4u + records(&o) * AV_SETTING_RECORD;
}

void av__settings_write(const av_estimator_state *e, unsigned char *out)
{
    av_estimator_options o;
    av__settings_current(e, &o);
    const uint64_t values[SET_LAST] = {av__f64_bits(o.kappa), o.weighting,
                                       av__f64_bits((double)o.temperature), o.guard,
                                       av__f64_bits(o.guard_margin), o.normalisation,
                                       av__f64_bits(o.safety)};
    size_t n = records(&o);
    av__put32(out, (uint32_t)n);
    for (uint16_t id = 1; id <= n; id++) {
        unsigned char *rec = out + 4 + (size_t)(id - 1) * AV_SETTING_RECORD;
        av__put16(rec, id);
        av__put16(rec + 2, AV_SETTING_CRITICAL); /* every one of them changes decisions */
        memset(rec + 4, 0, 4);
        av__put64(rec + 8, values[id - 1]);
    }
}

int av__settings_read(av_estimator_state *e, const unsigned char *p, size_t n)
{
    if (n < 4)
        return av__fail(AV_EFORMAT, "settings section shorter than its count");
    uint32_t cnt = av__get32(p);
    if (cnt > AV_SETTINGS_MAX || n != 4 + (size_t)cnt * AV_SETTING_RECORD)
        return av__fail(AV_EFORMAT, "settings section of %zu bytes for %u records (at most %u)",
                        n, cnt, AV_SETTINGS_MAX);
    av_estimator_options o;
    av_estimator_options_init(&o);
    bool seen[SET_LAST + 1] = {false};
    for (uint32_t i = 0; i < cnt; i++) {
        const unsigned char *rec = p + 4 + (size_t)i * AV_SETTING_RECORD;
        unsigned id = av__get16(rec), flags = av__get16(rec + 2);
        uint64_t v = av__get64(rec + 8);
        if (rec[4] | rec[5] | rec[6] | rec[7] || (flags & ~AV_SETTING_CRITICAL))
            return av__fail(AV_EFORMAT, "setting record %u has non-zero reserved bits", i);
        if (id == 0 || id > SET_LAST) {
            if (flags & AV_SETTING_CRITICAL) /* it would change decisions: refuse */
                return av__fail(AV_EVERSION, "the file needs routing setting %u, which libavengers "
                                             "%s does not know (a newer version wrote it)",
                                id, AV_VERSION_STRING);
            continue; /* informational: skipped */
        }
        if (seen[id])
            return av__fail(AV_EFORMAT, "routing setting %u appears twice", id);
        seen[id] = true;
        switch (id) {
        case SET_KAPPA:
            o.kappa = av__bits_f64(v);
            break;
        case SET_WEIGHTING:
            o.weighting = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case SET_TEMPERATURE: {
            double t = av__bits_f64(v);
            /* written from a float: anything else would not round-trip */
            if ((double)(float)t != t && !isnan(t))
                return av__fail(AV_EFORMAT, "temperature %.17g is not a float", t);
            o.temperature = (float)t;
            break;
        }
        case SET_GUARD:
            o.guard = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        case SET_GUARD_MARGIN:
            o.guard_margin = av__bits_f64(v);
            break;
        case SET_NORMALISATION:
            o.normalisation = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
            break;
        default:
            o.safety = av__bits_f64(v);
            break;
        }
    }
    if (av__settings_check(&o) != AV_OK)
        return av__fail_context(AV_EFORMAT, "routing settings");
    av__settings_apply(e, &o);
    return AV_OK;
}

/* ---------------------------------------------------------------------------------------------
 * 0.x files: settings as metadata strings
 * ------------------------------------------------------------------------------------------- */
int av__settings_legacy_key(const char *key)
{
    for (int i = 0; i < (int)(sizeof legacy_keys / sizeof legacy_keys[0]); i++)
        if (strcmp(key, legacy_keys[i]) == 0)
            return i;
    return -1;
}

static int number(const char *key, const char *s, double *v)
{
    char *end;
    double d = av__strtod_c(s, &end);
    if (end == s || *end != '\0' || !isfinite(d))
        return av__fail(AV_EFORMAT, "metadata %s='%s' is not a finite number", key, s);
    *v = d;
    return AV_OK;
}

int av__settings_read_legacy(av_estimator_state *e, char *const *values)
{
    av_estimator_options o;
    av_estimator_options_init(&o);
    double v;
    int rc = AV_OK;
    if (values[0] && (rc = number("kappa", values[0], &o.kappa)) != AV_OK)
        return rc;
    if (values[2]) {
        if ((rc = number("temperature", values[2], &v)) != AV_OK)
            return rc;
        o.temperature = (float)v;
    }
    if (values[3]) {
        if ((rc = number("guard", values[3], &v)) != AV_OK)
            return rc;
        o.guard = v != 0.0;
    }
    if (values[4] && (rc = number("guard_margin", values[4], &o.guard_margin)) != AV_OK)
        return rc;
    if (values[1]) {
        if (strcmp(values[1], "hard") == 0)
            o.weighting = AV_WEIGHTING_HARD;
        else if (strcmp(values[1], "softmax") == 0)
            o.weighting = AV_WEIGHTING_SOFTMAX;
        else
            return av__fail(AV_EFORMAT, "metadata weighting='%s' (hard or softmax)", values[1]);
    }
    if (values[5]) {
        if (strcmp(values[5], "cluster") == 0)
            o.normalisation = AV_NORMALISE_CLUSTER;
        else if (strcmp(values[5], "global") == 0)
            o.normalisation = AV_NORMALISE_GLOBAL;
        else
            return av__fail(AV_EFORMAT, "metadata normalisation='%s' (cluster or global)",
                            values[5]);
    }
    if (av__settings_check(&o) != AV_OK)
        return av__fail_context(AV_EFORMAT, "estimator metadata");
    av__settings_apply(e, &o);
    return AV_OK;
}
