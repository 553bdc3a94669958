/* The router's routing settings through the API: av_router_set_estimator and
   av_router_get_estimator (validation and the typed file section: rule/settings.c). */
#include "router/router.h"

AV_API int av_router_set_estimator(av_router *r, const av_estimator_options *opts)
{
    if (!r)
        return av__fail(AV_EINVAL, "router is NULL");
    av_estimator_options o;
    av_estimator_options_init(&o);
    int rc;
    if (opts && (rc = av__struct_in(&o, sizeof o, opts, AV_estimator_options_MIN_SIZE_,
                                    "av_estimator_options")) != AV_OK)
        return rc;
    if ((rc = av__settings_check(&o)) != AV_OK)
        return rc;
    av__mutex_lock(&r->lock);
    av__settings_apply(&r->est, &o);
    av__stats_republish_locked(&r->st, r->est.kappa);
    av__mutex_unlock(&r->lock);
    return AV_OK;
}

AV_API int av_router_get_estimator(const av_router *r, av_estimator_options *opts)
{
    if (!r || !opts)
        return av__fail(AV_EINVAL, "router or options is NULL");
    av_estimator_options o;
    av__settings_current(&r->est, &o);
    return av__struct_out(opts, &o, sizeof o, AV_estimator_options_MIN_SIZE_,
                          "av_estimator_options");
}
