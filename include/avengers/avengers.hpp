/*
 * avengers.hpp: a header-only C++17 wrapper over the libavengers C API (avengers.h).
 *
 *   avengers::Router r = avengers::Router::load("router.avr");
 *   std::size_t model = r.route(embedding, 0.7f);   // embedding: std::vector<float>, span, ...
 *   std::cout << r.model_name(model) << "\n";
 *
 * - RAII: Router and Builder own their handle, are movable and not copyable; the destructor frees.
 * - Errors: every failing call throws avengers::Error, which carries the AV_E* code() and the
 *   library's detail message (av_last_error() of the failing call) in what().
 * - Arrays: functions take a pointer and a size; with C++20 (__cpp_lib_span) there are also
 *   std::span overloads. Any contiguous container of float (std::vector, std::array) converts.
 *   Nothing is copied: the pointer goes to the C call as it is.
 * - Thread-safety is the C library's (docs/THREADING.md): route() and profile_update() may run
 *   concurrently on one Router from many threads; set_top_p() and set_meta() must not.
 * - Arguments are checked before they reach C. Integers (indices, top_p, counts, seeds) are taken
 *   as any integer type and must fit the C parameter: a negative or too large value throws (the
 *   argument named in what(); AV_EMODEL for a model index, AV_ERANGE for a cluster index,
 *   AV_EINVAL otherwise) instead of being narrowed. A std::string holding '\0' throws AV_EINVAL
 *   (C would cut it there). Whether a name is acceptable (UTF-8 without control characters) is
 *   the library's rule and its own error.
 * - Experimental interfaces (tuning: TuneOptions, FitOptions::tune, TuneOptions::progress;
 *   SAMPLED's FitOptions::pass_progress; budgets: expected_mean, alpha_for_budget,
 *   alpha_for_accuracy) are declared, as in avengers.h, only where
 *   AV_STATIC_LINKING_ONLY is defined before this header is included; they may change in a minor
 *   release (docs/ABI.md).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef AVENGERS_HPP
#define AVENGERS_HPP

#include "avengers.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <locale>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__has_include)
#if __has_include(<version>)
#include <version>
#endif
#endif
#if defined(__cpp_lib_span) && __cpp_lib_span >= 202002L
#include <span>
#define AVENGERS_HPP_SPAN 1
#endif

namespace avengers {

/* A failed libavengers call: code() is the negative AV_E* value, what() the detail message. */
class Error : public std::runtime_error {
public:
    Error(int code, const std::string &detail)
        : std::runtime_error(detail.empty() ? std::string(av_strerror(code)) : detail), code_(code)
    {
    }
    int code() const noexcept { return code_; }
    /* The code's static text (av_strerror). */
    const char *text() const noexcept { return av_strerror(code_); }

private:
    int code_;
};

namespace detail {
/* Throw for a negative return code, reading this thread's detail right away. */
inline int check(int rc)
{
    if (rc < 0)
        throw Error(rc, av_last_error());
    return rc;
}
template <class C> inline auto data_of(const C &c) -> decltype(c.data()) { return c.data(); }

/* Integer arguments: any integer type but bool, checked by narrow() against the C parameter. */
template <class I>
using if_integer = std::enable_if_t<std::is_integral<I>::value && !std::is_same<I, bool>::value, int>;

/* Whether v is a value of To (as C++20's std::in_range). */
template <class To, class From> constexpr bool in_range(From v) noexcept
{
    if constexpr (std::is_signed<From>::value) {
        if (v < 0) {
            if constexpr (std::is_signed<To>::value)
                return static_cast<std::intmax_t>(v) >= static_cast<std::intmax_t>(std::numeric_limits<To>::min());
            else
                return false;
        }
    }
    return static_cast<std::uintmax_t>(v) <= static_cast<std::uintmax_t>(std::numeric_limits<To>::max());
}

/* v as the C parameter's type To, or Error(code) naming the argument: never a silent narrowing
   (-1 into a uint32_t, 2^32 + 2 into a uint32_t, 2^31 into an int32_t). */
template <class To, class From> inline To narrow(From v, const char *what, int code = AV_EINVAL)
{
    static_assert(std::is_integral<From>::value, "an integer argument is expected");
    if (!in_range<To>(v))
        throw Error(code, std::string(what) + " = " + std::to_string(v) +
                              " is out of range of the C API's parameter (" +
                              std::to_string(std::numeric_limits<To>::min()) + " to " +
                              std::to_string(std::numeric_limits<To>::max()) + ")");
    return static_cast<To>(v);
}

/* s.c_str() for a C call, or Error(AV_EINVAL) when s holds '\0' (C would see only the part
   before it). */
inline const char *c_str(const std::string &s, const char *what)
{
    std::size_t at = s.find('\0');
    if (at != std::string::npos)
        throw Error(AV_EINVAL, std::string(what) + " contains a NUL byte at offset " + std::to_string(at) +
                                   " (C would cut it there)");
    return s.c_str();
}

/* C pointers to the names (each checked as c_str does), valid while models lives. */
inline std::vector<const char *> c_names(const std::vector<std::string> &models)
{
    std::vector<const char *> names;
    for (std::size_t i = 0; i < models.size(); i++)
        names.push_back(c_str(models[i], ("model name " + std::to_string(i)).c_str()));
    return names;
}
} // namespace detail

inline std::string version() { return av_version_string(); }
inline std::string simd_backend() { return av_simd_backend(); }

#ifdef AV_STATIC_LINKING_ONLY
/* Cross-validated tuning (av_tune_options), passed to Builder::fit with FitOptions().tune(t).
   The candidate lists are held here in std::vector, so the pointers handed to the C call stay
   valid; an empty list means "only the fit options' value" (NULL in C). After a tuned fit,
   best_auc() is the winner's mean cross-validated AUC (the router's metadata tuned_cv_auc) and
   the choice is in the router's metadata (tuned_n_clusters, tuned_top_p, tuned_members,
   tuned_kappa, ...). Experimental: AV_STATIC_LINKING_ONLY. */
class TuneOptions {
public:
    /* av_tune_options_init: no candidate lists, 5 folds, 21 alphas, 2 restarts per fold. */
    TuneOptions() { av_tune_options_init(&c_); }
    /* The grid `avengers train --tune` uses (av_tune_options_default_grid), copied into vectors. */
    static TuneOptions default_grid()
    {
        TuneOptions t;
        av_tune_options g;
        av_tune_options_init(&g);
        av_tune_options_default_grid(&g);
        t.k_.assign(g.n_clusters, g.n_clusters + g.n_n_clusters);
        t.p_.assign(g.top_p, g.top_p + g.n_top_p);
        t.kappa_.assign(g.kappa, g.kappa + g.n_kappa);
        if (g.temperatures)
            t.temp_.assign(g.temperatures, g.temperatures + g.n_temperatures);
        if (g.members)
            t.members_.assign(g.members, g.members + g.n_members);
        if (g.safety)
            t.safety_.assign(g.safety, g.safety + g.n_safety);
        t.c_.global_normalisation = g.global_normalisation;
        return t;
    }

    TuneOptions &n_clusters(std::vector<uint32_t> v) { k_ = std::move(v); return *this; }
    TuneOptions &top_p(std::vector<uint32_t> v) { p_ = std::move(v); return *this; }
    TuneOptions &kappa(std::vector<double> v) { kappa_ = std::move(v); return *this; }
    /* Softmax temperatures (hard weighting is always a candidate too). */
    TuneOptions &temperatures(std::vector<float> v) { temp_ = std::move(v); return *this; }
    /* Ensemble sizes (FitOptions::members), each 1..AV_MAX_MEMBERS. */
    TuneOptions &members(std::vector<uint32_t> v) { members_ = std::move(v); return *this; }
    /* Safe-deviation levels (av_estimator_options.safety), each >= 0. */
    TuneOptions &safety(std::vector<double> v) { safety_ = std::move(v); return *this; }
    template <class I, detail::if_integer<I> = 0> TuneOptions &n_folds(I v)
    {
        c_.n_folds = detail::narrow<uint32_t>(v, "n_folds");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> TuneOptions &n_alphas(I v)
    {
        c_.n_alphas = detail::narrow<uint32_t>(v, "n_alphas");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> TuneOptions &n_init(I v)
    {
        c_.n_init = detail::narrow<uint32_t>(v, "n_init");
        return *this;
    }
    /* Also turn the no-worse-than-best-single guard on in the result, with this margin. */
    TuneOptions &guard(bool on, double margin = 0.0)
    {
        c_.guard = on ? 1u : 0u;
        c_.guard_margin = margin;
        return *this;
    }
    /* AV_NORMALISE_GLOBAL as a candidate beside the paper's per-cluster normalisation. */
    TuneOptions &global_normalisation(bool on) { c_.global_normalisation = on ? 1u : 0u; return *this; }
    /* Called on the fitting thread (av_tune_options.progress): before each fold's router is
       fitted, after its candidates are scored and before the winner's fit. Returning true
       cancels the tuning (fit() throws AV_ECANCELED); an exception it throws cancels too and is
       rethrown by fit() after the C call has returned (never across the C frame). */
    TuneOptions &progress(std::function<bool(const av_tune_progress &)> f)
    {
        progress_ = std::move(f);
        return *this;
    }

    const std::vector<uint32_t> &n_clusters() const noexcept { return k_; }
    const std::vector<uint32_t> &top_p() const noexcept { return p_; }
    const std::vector<double> &kappa() const noexcept { return kappa_; }
    const std::vector<float> &temperatures() const noexcept { return temp_; }
    const std::vector<uint32_t> &members() const noexcept { return members_; }
    const std::vector<double> &safety() const noexcept { return safety_; }
    uint32_t n_folds() const noexcept { return c_.n_folds; }
    uint32_t n_alphas() const noexcept { return c_.n_alphas; }
    uint32_t n_init() const noexcept { return c_.n_init; }
    bool guard() const noexcept { return c_.guard != 0; }
    double guard_margin() const noexcept { return c_.guard_margin; }
    bool global_normalisation() const noexcept { return c_.global_normalisation != 0; }
    /* The winner's mean cross-validated AUC of the last fit tuned with these options (0 before). */
    double best_auc() const noexcept { return best_auc_; }

    /* The C struct with pointers into this object's vectors: valid while this object lives and
       its lists are not changed. */
    av_tune_options c() const noexcept
    {
        av_tune_options t = c_;
        t.n_clusters = k_.empty() ? nullptr : k_.data();
        t.n_n_clusters = k_.size();
        t.top_p = p_.empty() ? nullptr : p_.data();
        t.n_top_p = p_.size();
        t.kappa = kappa_.empty() ? nullptr : kappa_.data();
        t.n_kappa = kappa_.size();
        t.temperatures = temp_.empty() ? nullptr : temp_.data();
        t.n_temperatures = temp_.size();
        t.members = members_.empty() ? nullptr : members_.data();
        t.n_members = members_.size();
        t.safety = safety_.empty() ? nullptr : safety_.data();
        t.n_safety = safety_.size();
        return t;
    }

private:
    friend class Builder;
    av_tune_options c_; /* scalar fields; the list pointers are filled in by c() */
    std::vector<uint32_t> k_, p_, members_;
    std::vector<double> kappa_, safety_;
    std::vector<float> temp_;
    double best_auc_ = 0.0;
    std::function<bool(const av_tune_progress &)> progress_;
};
#endif /* AV_STATIC_LINKING_ONLY */

/* Options for Builder::fit, initialised to the library's defaults (av_fit_options_init). */
struct FitOptions {
    av_fit_options c;
    FitOptions() { av_fit_options_init(&c); }
    template <class I, detail::if_integer<I> = 0> FitOptions &n_clusters(I v)
    {
        c.n_clusters = detail::narrow<uint32_t>(v, "n_clusters");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> FitOptions &top_p(I v)
    {
        c.top_p = detail::narrow<uint32_t>(v, "top_p");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> FitOptions &n_init(I v)
    {
        c.n_init = detail::narrow<uint32_t>(v, "n_init");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> FitOptions &max_iter(I v)
    {
        c.max_iter = detail::narrow<uint32_t>(v, "max_iter");
        return *this;
    }
    FitOptions &tol(float v) { c.tol = v; return *this; }
    template <class I, detail::if_integer<I> = 0> FitOptions &seed(I v)
    {
        c.seed = detail::narrow<uint64_t>(v, "seed");
        return *this;
    }
    FitOptions &centroid_type(av_centroid_type v) { c.centroid_type = static_cast<uint32_t>(v); return *this; }
    /* The string must outlive the fit call. */
    FitOptions &embedder_id(const char *v) { c.embedder_id = v; return *this; }
    /* Beyond the paper: an ensemble of v independent clusterings of n_clusters each; a query uses
       its top_p nearest clusters in every member (1, the default, is the paper; at most
       AV_MAX_MEMBERS, and v * top_p <= AV_MAX_TOP_P, else fit() throws AV_EINVAL). */
    template <class I, detail::if_integer<I> = 0> FitOptions &members(I v)
    {
        c.members = detail::narrow<uint32_t>(v, "members");
        return *this;
    }
    /* The k-means (docs/SCALING.md, "Training on large logs"): AV_KMEANS_AUTO (the default:
       full-batch up to AV_KMEANS_AUTO_MAX_ROWS rows, sampled above), AV_KMEANS_FULL or
       AV_KMEANS_SAMPLED; for SAMPLED the expected sample rows and the most passes over every
       row (0: the library's defaults). */
    FitOptions &algorithm(uint32_t v) { c.algorithm = v; return *this; }
    template <class I, detail::if_integer<I> = 0> FitOptions &sample_size(I v)
    {
        c.sample_size = detail::narrow<uint32_t>(v, "sample_size");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> FitOptions &max_passes(I v)
    {
        c.max_passes = detail::narrow<uint32_t>(v, "max_passes");
        return *this;
    }
#ifdef AV_STATIC_LINKING_ONLY
    /* SAMPLED's progress (av_fit_options.pass_progress), on the fitting thread: after the
       sample's k-means, each pass and the statistics pass. Read a field only when
       p.struct_size covers it (an older library fills fewer: rows_searched is 1.4's). An
       exception it throws is rethrown by fit() after the fit has returned (the fit goes on). */
    FitOptions &pass_progress(std::function<void(const av_fit_progress &)> f)
    {
        pass_progress_ = std::move(f);
        return *this;
    }
    const std::function<void(const av_fit_progress &)> &pass_progress() const noexcept
    {
        return pass_progress_;
    }
    /* Beyond the paper (experimental): choose n_clusters, top_p, members, kappa and weighting
       by cross-validation over t's candidate lists. t must outlive the fit call, which sets
       t.best_auc(). */
    FitOptions &tune(TuneOptions &t) { tune_ = &t; return *this; }
    FitOptions &tune(TuneOptions &&) = delete; /* best_auc() would be lost */
    TuneOptions *tuning() const noexcept { return tune_; }

private:
    TuneOptions *tune_ = nullptr;
    std::function<void(const av_fit_progress &)> pass_progress_;
#endif
};

/* Per-request options for Router::route_ex, initialised by av_route_options_init. The options own
   what they point to (the mask and the embedder id are copied in), so a temporary is fine:
   RouteOptions(1.0f).model_mask({0, 1, 0}). Each setter called on a temporary returns the options
   by value, so `const auto &o = RouteOptions().model_mask({...});` holds a live object too. */
struct RouteOptions {
    av_route_options c;
    explicit RouteOptions(float alpha = 0.5f)
    {
        av_route_options_init(&c);
        c.alpha = alpha;
    }
    template <class I, detail::if_integer<I> = 0> RouteOptions &top_p(I v) &
    {
        c.top_p = detail::narrow<uint32_t>(v, "top_p");
        return *this;
    }
    template <class I, detail::if_integer<I> = 0> RouteOptions top_p(I v) && { return std::move(top_p(v)); }
    RouteOptions &max_expected_cost(double v) & { c.flags |= AV_ROUTE_MAX_COST; c.max_expected_cost = v; return *this; }
    RouteOptions max_expected_cost(double v) && { return std::move(max_expected_cost(v)); }
    RouteOptions &min_expected_score(double v) & { c.flags |= AV_ROUTE_MIN_SCORE; c.min_expected_score = v; return *this; }
    RouteOptions min_expected_score(double v) && { return std::move(min_expected_score(v)); }
    /* Safe deviation from the best single model for this request, in standard errors (>= 0,
       INFINITY allowed), instead of the router's (av_estimator_options.safety). */
    RouteOptions &safety(double v) & { c.flags |= AV_ROUTE_SAFETY; c.safety = v; return *this; }
    RouteOptions safety(double v) && { return std::move(safety(v)); }
    /* mask[i] == 1 allows model i, 0 forbids it (models past the mask's end are forbidden). The
       mask is copied; a value other than 0 and 1 throws AV_EINVAL here, and Router::route_ex
       throws AV_EMODEL when it allows a model the router does not have. */
    RouteOptions &model_mask(std::vector<uint8_t> mask) &
    {
        for (std::size_t i = 0; i < mask.size(); i++)
            if (mask[i] > 1)
                throw Error(AV_EINVAL, "model_mask[" + std::to_string(i) + "] = " +
                                           std::to_string(mask[i]) + ": use 0 or 1");
        mask_ = std::move(mask);
        has_mask_ = true;
        c.model_mask = nullptr; /* set by get(), into this object's copy */
        c.model_mask_len = mask_.size();
        return *this;
    }
    RouteOptions model_mask(std::vector<uint8_t> mask) && { return std::move(model_mask(std::move(mask))); }
    /* Must equal the router's recorded embedder id, if it has one. Copied. */
    RouteOptions &embedder_id(std::string id) &
    {
        detail::c_str(id, "embedder_id"); /* throws AV_EINVAL on a NUL byte */
        id_ = std::move(id);
        has_id_ = true;
        c.embedder_id = nullptr; /* set by get() */
        return *this;
    }
    RouteOptions embedder_id(std::string id) && { return std::move(embedder_id(std::move(id))); }

    /* The C options for a call: c, with the mask and the embedder id pointing into this object
       (also after a copy or a move); an empty mask stays "no model allowed" (a NULL pointer would
       mean "every model"). Valid while this object lives and is not changed. */
    av_route_options get() const noexcept
    {
        static const uint8_t none = 0;
        av_route_options o = c;
        if (has_mask_) {
            o.model_mask = mask_.empty() ? &none : mask_.data();
            o.model_mask_len = mask_.size();
        }
        if (has_id_)
            o.embedder_id = id_.c_str();
        return o;
    }
    const std::vector<uint8_t> *mask() const noexcept { return has_mask_ ? &mask_ : nullptr; }
    /* The id given to embedder_id(), if any, else nullptr. */
    const std::string *embedder_id() const noexcept { return has_id_ ? &id_ : nullptr; }

private:
    std::vector<uint8_t> mask_;
    bool has_mask_ = false;
    std::string id_;
    bool has_id_ = false;
};

/* What Router::route_ex returns (av_route_result): the decision and its explanation. It converts
   to the model index, so `std::size_t m = r.route_ex(...)` keeps working. */
struct RouteExplanation {
    std::size_t model = 0;            /* the chosen model */
    std::size_t n_models = 0;         /* models the decision considered */
    std::size_t n_feasible = 0;       /* models allowed by the mask and the limits */
    std::vector<std::size_t> ranked;  /* feasible models, best first (fallbacks after model) */
    std::vector<double> ranked_scores;
    std::vector<double> model_scores;   /* per model: routing score */
    std::vector<double> expected_score; /* per model: expected score for this query */
    std::vector<double> expected_cost;  /* per model: expected cost for this query */
    std::vector<uint32_t> clusters;     /* the clusters used, most similar first */
    std::vector<float> cluster_sims;
    std::vector<double> cluster_weights;
    std::vector<double> cluster_support; /* largest number of outcomes any model has there */
    float best_similarity = 0.0f;        /* cosine similarity to the nearest centroid */
    double support = 0.0;                /* outcomes of the chosen model in the clusters used */
    bool guarded = false;                /* the guard or the safety rule replaced the rule's choice */
    std::vector<double> expected_score_se; /* per model: standard error of expected_score */
    long baseline = -1;                  /* the best single model for this alpha (-1: none allowed) */
    bool deviated = false;               /* the decision is not the baseline */
    double gain = 0.0;                   /* the rule's choice's estimated utility gain over it */
    double gain_lcb = 0.0;               /* gain minus safety standard errors of it */
    operator std::size_t() const noexcept { return model; }
};

/* The router's estimator defaults (av_estimator_options) for Router::set_estimator, initialised
   to the paper's (av_estimator_options_init): kappa 0, hard weighting, temperature 0.05, no
   guard, per-cluster normalisation. Invalid values (negative kappa, temperature <= 0, a non-finite
   margin) are refused by set_estimator with AV_EINVAL. */
struct EstimatorOptions {
    av_estimator_options c;
    EstimatorOptions() { av_estimator_options_init(&c); }
    explicit EstimatorOptions(const av_estimator_options &o) : c(o) {}
    /* Shrinkage of the cluster means toward the model's global mean (>= 0; 0 is the paper). */
    EstimatorOptions &kappa(double v) { c.kappa = v; return *this; }
    /* The paper's hard top-p sum. */
    EstimatorOptions &hard() { c.weighting = AV_WEIGHTING_HARD; return *this; }
    /* Weights softmax(similarity / temperature) over the top-p clusters. */
    EstimatorOptions &softmax(float temperature)
    {
        c.weighting = AV_WEIGHTING_SOFTMAX;
        c.temperature = temperature;
        return *this;
    }
    /* AV_WEIGHTING_HARD or AV_WEIGHTING_SOFTMAX. */
    template <class I, detail::if_integer<I> = 0> EstimatorOptions &weighting(I v)
    {
        c.weighting = detail::narrow<uint32_t>(v, "weighting");
        return *this;
    }
    EstimatorOptions &temperature(float v) { c.temperature = v; return *this; }
    /* The no-worse-than-best-single guard, and the margin the rule's choice must beat it by. */
    EstimatorOptions &guard(bool on, double margin = 0.0)
    {
        c.guard = on ? 1u : 0u;
        c.guard_margin = margin;
        return *this;
    }
    EstimatorOptions &guard_margin(double v) { c.guard_margin = v; return *this; }
    /* Safe deviation from the best single model, in standard errors (0 = the rule alone, the
       paper's; INFINITY = the best single model for each alpha). */
    EstimatorOptions &safety(double v) { c.safety = v; return *this; }
    /* AV_NORMALISE_CLUSTER (the paper) or AV_NORMALISE_GLOBAL. */
    template <class I, detail::if_integer<I> = 0> EstimatorOptions &normalisation(I v)
    {
        c.normalisation = detail::narrow<uint32_t>(v, "normalisation");
        return *this;
    }

    double kappa() const noexcept { return c.kappa; }
    uint32_t weighting() const noexcept { return c.weighting; }
    float temperature() const noexcept { return c.temperature; }
    bool guard() const noexcept { return c.guard != 0; }
    double guard_margin() const noexcept { return c.guard_margin; }
    uint32_t normalisation() const noexcept { return c.normalisation; }
    double safety() const noexcept { return c.safety; }
};

#ifdef AV_STATIC_LINKING_ONLY
/* Router::expected_mean: expected mean score and cost per query. */
struct ExpectedMean {
    double score, cost;
};
/* Router::alpha_for_share: the alpha, and the share the models get at it. */
struct SharedAlpha {
    float alpha;
    double share;
};
/* A model's price (av_price): Price::per_query(c) or Price::per_token(p, q, n_in, n_out), for
   Router::set_price; Router::get_price fills it (unit AV_PRICE_NONE: none set, cost_per_query the
   learned mean cost per query). */
struct Price {
    av_price c;
    Price() { av_price_init(&c); }
    static Price per_query(double cost)
    {
        Price p;
        p.c.cost_per_query = cost;
        return p;
    }
    static Price per_token(double input_price, double output_price, double input_tokens,
                           double output_tokens)
    {
        Price p;
        p.c.unit = AV_PRICE_PER_TOKEN;
        p.c.input_price = input_price;
        p.c.output_price = output_price;
        p.c.input_tokens = input_tokens;
        p.c.output_tokens = output_tokens;
        return p;
    }
    uint32_t unit() const noexcept { return c.unit; }
    double cost_per_query() const noexcept { return c.cost_per_query; }
    double input_price() const noexcept { return c.input_price; }
    double output_price() const noexcept { return c.output_price; }
    double input_tokens() const noexcept { return c.input_tokens; }
    double output_tokens() const noexcept { return c.output_tokens; }
};
#endif

/* The outcome of Router::evaluate, read out of the C result (which is freed at once). */
struct Evaluation {
    std::size_t n_rows = 0;
    std::vector<std::string> models;
    std::vector<av_eval_point> points;       /* the router at each alpha */
    std::vector<av_eval_point> model_points; /* each single model, in models order */
    av_eval_point oracle{};
    av_eval_metrics metrics{};
    /* (AV_EVAL_ROUTER, alpha position) or (AV_EVAL_MODEL, model index) */
    std::vector<std::pair<uint32_t, std::size_t>> frontier;
};

/* One model's statistics in one cluster. */
struct ClusterStats {
    double count, sum_score, sum_cost;
};

class Router {
public:
    /* Takes ownership of a handle from the C API (may be used with av_router_* calls not wrapped). */
    explicit Router(av_router *owned) noexcept : r_(owned) {}
    Router(Router &&o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
    Router &operator=(Router &&o) noexcept
    {
        if (this != &o) {
            av_router_free(r_);
            r_ = std::exchange(o.r_, nullptr);
        }
        return *this;
    }
    Router(const Router &) = delete;
    Router &operator=(const Router &) = delete;
    ~Router() { av_router_free(r_); }

    static Router load(const std::string &path)
    {
        av_router *r = nullptr;
        detail::check(av_router_load(&r, detail::c_str(path, "path")));
        return Router(r);
    }
    static Router load_buffer(const void *data, std::size_t size)
    {
        av_router *r = nullptr;
        detail::check(av_router_load_buffer(&r, data, size));
        return Router(r);
    }
    /* centroids: n_clusters x dim; counts, sum_scores, sum_costs: n_clusters x n_models. */
    template <class D, class P, detail::if_integer<D> = 0, detail::if_integer<P> = 0>
    static Router from_parts(D dim_arg, const std::vector<std::string> &models,
                             const std::vector<float> &centroids, const std::vector<double> &counts,
                             const std::vector<double> &sum_scores,
                             const std::vector<double> &sum_costs, P top_p_arg)
    {
        std::size_t dim = detail::narrow<std::size_t>(dim_arg, "dim");
        uint32_t top_p = detail::narrow<uint32_t>(top_p_arg, "top_p");
        if (dim == 0 || centroids.size() % dim != 0)
            throw Error(AV_EINVAL, "centroids.size() is not a multiple of dim");
        std::size_t k = centroids.size() / dim, m = models.size();
        if (m != 0 && k > SIZE_MAX / m)
            throw Error(AV_ERANGE, "n_clusters x n_models overflows size_t");
        if (counts.size() != k * m || sum_scores.size() != k * m || sum_costs.size() != k * m)
            throw Error(AV_EINVAL, "statistics must hold n_clusters x n_models values");
        std::vector<const char *> names = detail::c_names(models);
        av_router *r = nullptr;
        detail::check(av_router_from_parts(&r, dim, k, m, names.data(), centroids.data(),
                                           counts.data(), sum_scores.data(), sum_costs.data(),
                                           top_p));
        return Router(r);
    }

    void save(const std::string &path) const
    {
        detail::check(av_router_save(r_, detail::c_str(path, "path")));
    }
    std::vector<unsigned char> save_buffer() const
    {
        void *p = nullptr;
        std::size_t n = 0;
        detail::check(av_router_save_buffer(r_, &p, &n));
        const unsigned char *b = static_cast<const unsigned char *>(p);
        std::vector<unsigned char> out(b, b + n);
        av_free(p);
        return out;
    }

    std::size_t dim() const noexcept { return av_router_dim(r_); }
    /* All clusters, of every member of an ensemble. */
    std::size_t n_clusters() const noexcept { return av_router_n_clusters(r_); }
    /* Clusterings in the ensemble (av_router_members): 1 for the paper's router; member b owns
       clusters [b * n_clusters() / members(), (b + 1) * n_clusters() / members()). */
    std::size_t members() const noexcept { return av_router_members(r_); }
    std::size_t n_models() const noexcept { return av_router_n_models(r_); }
    std::size_t top_p() const noexcept { return av_router_top_p(r_); }
    template <class I, detail::if_integer<I> = 0> void set_top_p(I p)
    {
        detail::check(av_router_set_top_p(r_, detail::narrow<uint32_t>(p, "top_p")));
    }
    template <class I, detail::if_integer<I> = 0> std::string model_name(I model) const
    {
        std::size_t i = detail::narrow<std::size_t>(model, "model", AV_EMODEL);
        const char *s = av_router_model_name(r_, i);
        if (!s)
            throw Error(AV_EMODEL, "model " + std::to_string(i) + " out of range");
        return s;
    }
    std::vector<std::string> models() const
    {
        std::vector<std::string> v;
        for (std::size_t i = 0; i < n_models(); i++)
            v.push_back(model_name(i));
        return v;
    }
    std::size_t model_index(const std::string &name) const
    {
        return static_cast<std::size_t>(
            detail::check(av_router_model_index(r_, detail::c_str(name, "model name"))));
    }
    template <class I, detail::if_integer<I> = 0> std::vector<float> centroid(I cluster) const
    {
        std::size_t j = detail::narrow<std::size_t>(cluster, "cluster", AV_ERANGE);
        std::vector<float> c(dim());
        detail::check(av_router_get_centroid(r_, j, c.data(), c.size()));
        return c;
    }
    template <class J, class I, detail::if_integer<J> = 0, detail::if_integer<I> = 0>
    ClusterStats cluster_stats(J cluster, I model) const
    {
        std::size_t j = detail::narrow<std::size_t>(cluster, "cluster", AV_ERANGE);
        std::size_t i = detail::narrow<std::size_t>(model, "model", AV_EMODEL);
        ClusterStats s{0, 0, 0};
        detail::check(av_router_cluster_stats(r_, j, i, &s.count, &s.sum_score, &s.sum_cost));
        return s;
    }
    std::map<std::string, std::string> metadata() const
    {
        std::map<std::string, std::string> md;
        for (std::size_t i = 0; i < av_router_meta_count(r_); i++) {
            const char *k = nullptr, *v = nullptr;
            detail::check(av_router_meta_at(r_, i, &k, &v));
            md.emplace(k, v);
        }
        return md;
    }
    void set_meta(const std::string &key, const std::string &value)
    {
        detail::check(av_router_set_meta(r_, detail::c_str(key, "key"), detail::c_str(value, "value")));
    }
    std::string simd_backend() const { return av_router_simd_backend(r_); }

    /* The model index for one embedding of n floats. */
    std::size_t route(const float *embedding, std::size_t n, float alpha) const
    {
        return static_cast<std::size_t>(detail::check(av_route(r_, embedding, n, alpha)));
    }
    /* Route n rows (row i at embeddings + i*row_stride) into out (n entries). Throws on the
       first bad row; out still holds every row's result (negative codes for bad rows). */
    void route_batch(const float *embeddings, std::size_t n, std::size_t dim, std::size_t row_stride,
                     float alpha, int32_t *out) const
    {
        detail::check(av_route_batch(r_, embeddings, n, dim, row_stride, alpha, out));
    }
    /* Rows packed one after another (row_stride = dim). */
    std::vector<int32_t> route_batch(const float *embeddings, std::size_t n, float alpha) const
    {
        std::vector<int32_t> out(n);
        route_batch(embeddings, n, dim(), dim(), alpha, out.data());
        return out;
    }
    template <class I, detail::if_integer<I> = 0>
    void profile_update(const float *embedding, std::size_t n, I model, float score, float cost)
    {
        int32_t m = detail::narrow<int32_t>(model, "model", AV_EMODEL);
        detail::check(av_profile_update(r_, embedding, n, m, score, cost));
    }

    /* Containers with data() and size() (std::vector<float>, std::array<float, N>). */
    template <class C>
    auto route(const C &embedding, float alpha) const
        -> decltype(static_cast<const float *>(detail::data_of(embedding)), std::size_t())
    {
        return route(embedding.data(), embedding.size(), alpha);
    }
    template <class C, class I, detail::if_integer<I> = 0>
    auto profile_update(const C &embedding, I model, float score, float cost)
        -> decltype(static_cast<const float *>(detail::data_of(embedding)), void())
    {
        profile_update(embedding.data(), embedding.size(), model, score, cost);
    }
#ifdef AVENGERS_HPP_SPAN
    std::size_t route(std::span<const float> e, float alpha) const
    {
        return route(e.data(), e.size(), alpha);
    }
    /* rows.size() must be a multiple of dim(); rows packed. */
    std::vector<int32_t> route_batch(std::span<const float> rows, float alpha) const
    {
        if (dim() == 0 || rows.size() % dim() != 0)
            throw Error(AV_EDIM, "rows.size() is not a multiple of the router's dim");
        return route_batch(rows.data(), rows.size() / dim(), alpha);
    }
    void route_batch(std::span<const float> rows, std::size_t row_stride, float alpha,
                     std::span<int32_t> out) const
    {
        std::size_t n = out.size(), d = dim();
        if (n > 0 && (row_stride < d || (n - 1) > (SIZE_MAX - d) / row_stride ||
                      rows.size() < (n - 1) * row_stride + d))
            throw Error(AV_ERANGE, "rows span is too short for out.size() rows");
        route_batch(rows.data(), n, d, row_stride, alpha, out.data());
    }
    template <class I, detail::if_integer<I> = 0>
    void profile_update(std::span<const float> e, I model, float score, float cost)
    {
        profile_update(e.data(), e.size(), model, score, cost);
    }
#endif

    /* Route with per-request options (av_route_ex) and explain the decision (RouteExplanation);
       default options decide as route(). */
    RouteExplanation route_ex(const float *embedding, std::size_t n, const RouteOptions &o) const
    {
        if (const std::vector<uint8_t> *mask = o.mask())
            for (std::size_t i = n_models(); i < mask->size(); i++)
                if ((*mask)[i])
                    throw Error(AV_EMODEL, "model_mask allows model " + std::to_string(i) +
                                               " but the router has " + std::to_string(n_models()));
        av_route_options c = o.get();
        const std::size_t m = n_models(), per = std::max<std::size_t>(members(), 1);
        /* no decision uses more than AV_MAX_TOP_P clusters per member; grown once if it did */
        std::size_t cap = std::min<std::size_t>(n_clusters(), AV_MAX_TOP_P) * per;
        for (;;) {
            RouteExplanation e;
            std::vector<int32_t> ranked(m, -1);
            e.ranked_scores.assign(m, 0.0);
            e.model_scores.assign(m, 0.0);
            e.expected_score.assign(m, 0.0);
            e.expected_cost.assign(m, 0.0);
            e.expected_score_se.assign(m, 0.0);
            e.clusters.assign(cap, 0);
            e.cluster_sims.assign(cap, 0.0f);
            e.cluster_weights.assign(cap, 0.0);
            e.cluster_support.assign(cap, 0.0);
            av_route_result res;
            av_route_result_init(&res);
            res.ranked = ranked.data();
            res.ranked_scores = e.ranked_scores.data();
            res.ranked_cap = m;
            res.model_scores = e.model_scores.data();
            res.expected_score = e.expected_score.data();
            res.expected_cost = e.expected_cost.data();
            res.expected_score_se = e.expected_score_se.data();
            res.models_cap = m;
            res.clusters = e.clusters.data();
            res.cluster_sims = e.cluster_sims.data();
            res.cluster_weights = e.cluster_weights.data();
            res.cluster_support = e.cluster_support.data();
            res.clusters_cap = cap;
            e.model = static_cast<std::size_t>(detail::check(av_route_ex(r_, embedding, n, &c, &res)));
            if (res.n_clusters > cap) {
                cap = res.n_clusters;
                continue;
            }
            const std::size_t nr = std::min(res.n_ranked, m), nc = res.n_clusters;
            e.n_models = res.n_models;
            e.n_feasible = res.n_feasible;
            e.ranked.assign(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(nr));
            e.ranked_scores.resize(nr);
            e.clusters.resize(nc);
            e.cluster_sims.resize(nc);
            e.cluster_weights.resize(nc);
            e.cluster_support.resize(nc);
            e.best_similarity = res.best_similarity;
            e.support = res.support;
            e.guarded = res.guarded != 0;
            e.baseline = res.baseline;
            e.deviated = res.deviated != 0;
            e.gain = res.gain;
            e.gain_lcb = res.gain_lcb;
            return e;
        }
    }
    /* The router's estimator defaults (av_router_set_estimator; recorded in the metadata). Not
       thread-safe against concurrent routing: call before sharing the router. */
    void set_estimator(const EstimatorOptions &o) { detail::check(av_router_set_estimator(r_, &o.c)); }
    EstimatorOptions estimator() const
    {
        EstimatorOptions o;
        detail::check(av_router_get_estimator(r_, &o.c));
        return o;
    }

#ifdef AV_STATIC_LINKING_ONLY
    /* Experimental (AV_STATIC_LINKING_ONLY). */
    /* Budgets (av_router_expected_mean): the expected mean score and cost per query of routing
       at alpha with the router's defaults, on the training statistics ... */
    ExpectedMean expected_mean(float alpha) const
    {
        return expected_mean(alpha, nullptr, 0, nullptr, nullptr);
    }
    /* ... or on a replay set: n packed rows of dim() floats; scores and costs n x n_models() in
       the router's model order, either may be NULL (a missing value counts as the router's
       estimate). As the C call: embeddings NULL means the training statistics. */
    ExpectedMean expected_mean(float alpha, const float *embeddings, std::size_t n,
                               const float *scores, const float *costs) const
    {
        ExpectedMean m{0, 0};
        detail::check(av_router_expected_mean(r_, alpha, embeddings, n, dim(), scores, costs,
                                              &m.score, &m.cost));
        return m;
    }
    /* Replay rows packed in a vector (size a multiple of dim(), not empty); scores and costs
       empty or n x n_models(). */
    ExpectedMean expected_mean(float alpha, const std::vector<float> &embeddings,
                               const std::vector<float> &scores = {},
                               const std::vector<float> &costs = {}) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return expected_mean(alpha, embeddings.data(), n, opt(scores), opt(costs));
    }

    /* The alpha (of a grid of n_grid points, 0 = 101) with the best expected mean score among
       those whose expected mean cost is <= budget; AV_ENOMODEL when none stays within it. */
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_budget(double budget, I n_grid = 0) const
    {
        return alpha_for_budget(budget, nullptr, 0, nullptr, nullptr, n_grid);
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_budget(double budget, const float *embeddings, std::size_t n,
                           const float *scores, const float *costs, I n_grid = 0) const
    {
        float a = 0.0f;
        detail::check(av_router_alpha_for_budget(r_, budget, embeddings, n, dim(), scores, costs,
                                                 detail::narrow<uint32_t>(n_grid, "n_grid"), &a));
        return a;
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_budget(double budget, const std::vector<float> &embeddings,
                           const std::vector<float> &scores = {},
                           const std::vector<float> &costs = {}, I n_grid = 0) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return alpha_for_budget(budget, embeddings.data(), n, opt(scores), opt(costs), n_grid);
    }
    /* The inverse: the cheapest alpha whose expected mean score is >= target; AV_ENOMODEL when
       no alpha reaches it. */
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_accuracy(double target, I n_grid = 0) const
    {
        return alpha_for_accuracy(target, nullptr, 0, nullptr, nullptr, n_grid);
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_accuracy(double target, const float *embeddings, std::size_t n,
                             const float *scores, const float *costs, I n_grid = 0) const
    {
        float a = 0.0f;
        detail::check(av_router_alpha_for_accuracy(r_, target, embeddings, n, dim(), scores,
                                                   costs, detail::narrow<uint32_t>(n_grid, "n_grid"),
                                                   &a));
        return a;
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_accuracy(double target, const std::vector<float> &embeddings,
                             const std::vector<float> &scores = {},
                             const std::vector<float> &costs = {}, I n_grid = 0) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return alpha_for_accuracy(target, embeddings.data(), n, opt(scores), opt(costs), n_grid);
    }
#ifdef AVENGERS_HPP_SPAN
    ExpectedMean expected_mean(float alpha, std::span<const float> embeddings,
                               std::span<const float> scores, std::span<const float> costs) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return expected_mean(alpha, embeddings.data(), n, opt(scores), opt(costs));
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_budget(double budget, std::span<const float> embeddings,
                           std::span<const float> scores, std::span<const float> costs,
                           I n_grid = 0) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return alpha_for_budget(budget, embeddings.data(), n, opt(scores), opt(costs), n_grid);
    }
    template <class I = uint32_t, detail::if_integer<I> = 0>
    float alpha_for_accuracy(double target, std::span<const float> embeddings,
                             std::span<const float> scores, std::span<const float> costs,
                             I n_grid = 0) const
    {
        std::size_t n = replay_rows(embeddings.size(), scores.size(), costs.size());
        return alpha_for_accuracy(target, embeddings.data(), n, opt(scores), opt(costs), n_grid);
    }
#endif
    /* Calibration for a share of calls (av_router_alpha_for_share): the smallest alpha at which
       the models whose indices are given receive at least `share` of the queries (embeddings:
       rows of dim() floats; empty = the training statistics); the closest share when none does. */
    template <class I = uint32_t, detail::if_integer<I> = 0>
    SharedAlpha alpha_for_share(const std::vector<std::size_t> &models, double share,
                                const std::vector<float> &embeddings = {}, I n_grid = 0) const
    {
        std::vector<uint8_t> mask(n_models(), 0);
        for (std::size_t i : models) {
            if (i >= mask.size())
                throw Error(AV_EMODEL, "model " + std::to_string(i) + " of " +
                                           std::to_string(mask.size()));
            mask[i] = 1;
        }
        std::size_t n = embeddings.empty() ? 0 : replay_rows(embeddings.size(), 0, 0);
        SharedAlpha out{};
        detail::check(av_router_alpha_for_share(r_, mask.data(), mask.size(), share,
                                                embeddings.empty() ? nullptr : embeddings.data(),
                                                n, dim(), detail::narrow<uint32_t>(n_grid, "n_grid"),
                                                &out.alpha, &out.share));
        return out;
    }
    /* Set a model's price without retraining (av_router_set_price): the costs learned for it are
       multiplied by new / old; returns that factor (NaN when the model had no cost). */
    template <class I, detail::if_integer<I> = 0>
    double set_price(I model, const Price &price)
    {
        double factor = 0.0;
        detail::check(av_router_set_price(r_, detail::narrow<int32_t>(model, "model", AV_EMODEL),
                                          &price.c, &factor));
        return factor;
    }
    template <class I, detail::if_integer<I> = 0>
    Price get_price(I model) const
    {
        Price p;
        detail::check(
            av_router_get_price(r_, detail::narrow<int32_t>(model, "model", AV_EMODEL), &p.c));
        return p;
    }
#endif /* AV_STATIC_LINKING_ONLY */

    /* Add other's statistics (same centroids and model set; AV_EMISMATCH otherwise). */
    void merge(const Router &other) { detail::check(av_profile_merge(r_, other.r_)); }
    std::size_t add_model(const std::string &name, double prior_score, double prior_cost,
                          double prior_weight)
    {
        return static_cast<std::size_t>(detail::check(
            av_router_add_model(r_, detail::c_str(name, "model name"), prior_score, prior_cost,
                                prior_weight)));
    }
    std::string centroid_hash() const
    {
        const char *h = av_router_centroid_hash(r_);
        return h ? h : "";
    }
    av_centroid_type centroid_type() const
    {
        return static_cast<av_centroid_type>(detail::check(av_router_centroid_type(r_)));
    }
    /* A new router with re-encoded centroids; this one is unchanged. */
    Router convert(av_centroid_type type) const
    {
        av_router *out = nullptr;
        detail::check(av_router_convert(&out, r_, type));
        return Router(out);
    }
    /* Replay evaluation (av_eval_run): n packed embeddings of dim(), scores and costs n x
       models.size() row-major (NaN = no outcome), columns named by models (empty: the router's
       models in order); alphas empty = 0, 0.05, ..., 1. */
    Evaluation evaluate(const float *embeddings, std::size_t n, const float *scores,
                        const float *costs, const std::vector<std::string> &models = {},
                        const std::vector<double> &alphas = {}) const
    {
        av_replay rp;
        av_replay_init(&rp);
        std::vector<const char *> names = detail::c_names(models);
        rp.n = n;
        rp.dim = dim();
        rp.row_stride = dim();
        rp.embeddings = embeddings;
        rp.n_models = models.empty() ? n_models() : models.size();
        rp.model_names = models.empty() ? nullptr : names.data();
        rp.scores = scores;
        rp.costs = costs;
        av_eval_options o;
        av_eval_options_init(&o);
        if (!alphas.empty()) {
            o.alphas = alphas.data();
            o.n_alphas = alphas.size();
        }
        av_eval_result *res = nullptr;
        detail::check(av_eval_run(&res, r_, &rp, &o));
        struct Free {
            av_eval_result *p;
            ~Free() { av_eval_result_free(p); }
        } guard{res};
        Evaluation ev;
        ev.n_rows = av_eval_n_rows(res);
        auto point = [](auto fn) {
            av_eval_point p{};
            p.struct_size = static_cast<uint32_t>(sizeof p);
            detail::check(fn(&p));
            return p;
        };
        for (std::size_t m = 0; m < av_eval_n_models(res); m++) {
            const char *name = av_eval_model_name(res, m);
            ev.models.push_back(name ? name : "");
            ev.model_points.push_back(point([&](av_eval_point *p) { return av_eval_model(res, m, p); }));
        }
        for (std::size_t i = 0; i < av_eval_n_alphas(res); i++)
            ev.points.push_back(point([&](av_eval_point *p) { return av_eval_alpha(res, i, p); }));
        ev.oracle = point([&](av_eval_point *p) { return av_eval_oracle(res, p); });
        ev.metrics.struct_size = static_cast<uint32_t>(sizeof ev.metrics);
        detail::check(av_eval_metrics_get(res, &ev.metrics));
        for (std::size_t i = 0; i < av_eval_frontier_count(res); i++) {
            uint32_t kind = 0;
            std::size_t index = 0;
            detail::check(av_eval_frontier_at(res, i, &kind, &index));
            ev.frontier.emplace_back(kind, index);
        }
        return ev;
    }

    av_router *get() const noexcept { return r_; }
    /* Give up ownership (the caller frees with av_router_free). */
    av_router *release() noexcept { return std::exchange(r_, nullptr); }
    explicit operator bool() const noexcept { return r_ != nullptr; }

private:
    /* Rows of a packed replay set, checked against the router before the C call sees it. */
    std::size_t replay_rows(std::size_t n_floats, std::size_t n_scores, std::size_t n_costs) const
    {
        std::size_t d = dim();
        if (n_floats == 0)
            throw Error(AV_EEMPTY, "the replay set is empty");
        if (d == 0 || n_floats % d != 0)
            throw Error(AV_EDIM, "replay embeddings hold " + std::to_string(n_floats) +
                                     " floats, not a multiple of the router's dim " +
                                     std::to_string(d));
        std::size_t n = n_floats / d, want = n * n_models();
        if ((n_scores != 0 && n_scores != want) || (n_costs != 0 && n_costs != want))
            throw Error(AV_EINVAL, "replay scores and costs need 0 or " + std::to_string(n) +
                                       " x " + std::to_string(n_models()) + " values");
        return n;
    }
    /* An empty list is "no values" (NULL) for the C call. */
    template <class C> static const float *opt(const C &c) { return c.size() ? c.data() : nullptr; }

    av_router *r_;
};

class Builder {
public:
    template <class I, detail::if_integer<I> = 0>
    Builder(I dim, const std::vector<std::string> &models)
        : dim_(detail::narrow<std::size_t>(dim, "dim")), m_(models.size())
    {
        std::vector<const char *> names = detail::c_names(models);
        detail::check(av_builder_new(&b_, dim_, models.size(), names.data()));
    }
    Builder(Builder &&o) noexcept : b_(std::exchange(o.b_, nullptr)), dim_(o.dim_), m_(o.m_) {}
    Builder &operator=(Builder &&o) noexcept
    {
        if (this != &o) {
            av_builder_free(b_);
            b_ = std::exchange(o.b_, nullptr);
            dim_ = o.dim_;
            m_ = o.m_;
        }
        return *this;
    }
    Builder(const Builder &) = delete;
    Builder &operator=(const Builder &) = delete;
    ~Builder() { av_builder_free(b_); }

    /* scores and costs hold n_models() values each; NaN means "no outcome". */
    void add(const float *embedding, std::size_t n, const float *scores, const float *costs)
    {
        detail::check(av_builder_add(b_, embedding, n, scores, costs));
    }
    void add(const std::vector<float> &embedding, const std::vector<float> &scores,
             const std::vector<float> &costs)
    {
        if (scores.size() != m_ || costs.size() != m_)
            throw Error(AV_EINVAL, "scores and costs need one value per model");
        add(embedding.data(), embedding.size(), scores.data(), costs.data());
    }
    std::size_t n_rows() const noexcept { return av_builder_n_rows(b_); }
    std::size_t n_models() const noexcept { return m_; }
    Router fit(const FitOptions &o = FitOptions())
    {
        av_fit_options c = o.c;
#ifdef AV_STATIC_LINKING_ONLY
        av_tune_options t;
        TuneOptions *tune = o.tuning();
        Callbacks cb{tune ? &tune->progress_ : nullptr, &o.pass_progress(), nullptr};
        if (tune) {
            t = tune->c();
            if (tune->progress_) {
                t.progress = &Builder::on_tune;
                t.progress_user = &cb;
            }
            c.tune = &t;
        }
        if (o.pass_progress()) {
            c.pass_progress = &Builder::on_pass;
            c.progress_user = &cb;
        }
#endif
        av_router *r = nullptr;
        int rc = av_builder_fit(b_, &c, &r);
#ifdef AV_STATIC_LINKING_ONLY
        if (cb.raised) {
            av_router_free(r);
            std::rethrow_exception(cb.raised);
        }
#endif
        detail::check(rc);
#ifdef AV_STATIC_LINKING_ONLY
        if (tune) {
            /* options are inputs only: the winner's AUC is the metadata tuned_cv_auc (%.17g) */
            double auc = 0.0;
            if (const char *v = av_router_meta(r, "tuned_cv_auc")) {
                std::istringstream in(v);
                in.imbue(std::locale::classic());
                in >> auc;
            }
            tune->best_auc_ = auc;
        }
#endif
        return Router(r);
    }
    double inertia() const noexcept { return av_builder_inertia(b_); }
    av_builder *get() const noexcept { return b_; }

private:
#ifdef AV_STATIC_LINKING_ONLY
    /* The C callbacks' user data: the C++ callbacks, and the first exception one threw. */
    struct Callbacks {
        const std::function<bool(const av_tune_progress &)> *tune;
        const std::function<void(const av_fit_progress &)> *pass;
        std::exception_ptr raised;
    };
    static int on_tune(void *user, const av_tune_progress *p)
    {
        Callbacks *cb = static_cast<Callbacks *>(user);
        try {
            return (*cb->tune)(*p) ? 1 : 0;
        } catch (...) {
            if (!cb->raised)
                cb->raised = std::current_exception();
            return 1; /* cancel: the exception is rethrown once the C call has returned */
        }
    }
    static void on_pass(void *user, const av_fit_progress *p)
    {
        Callbacks *cb = static_cast<Callbacks *>(user);
        if (cb->raised)
            return;
        try {
            (*cb->pass)(*p);
        } catch (...) {
            cb->raised = std::current_exception();
        }
    }
#endif
    av_builder *b_ = nullptr;
    std::size_t dim_, m_;
};

} // namespace avengers

#endif /* AVENGERS_HPP */
