// The C++ wrapper (avengers.hpp): hand-computed routing through every overload, exceptions with
// codes and details, RAII and moves, builder and persistence on the llm9 fixture, and agreement
// of every C++ entry point with the C calls (also the estimator, tuning and budget calls), and
// argument checks (integers that do not fit the C parameter, strings with a NUL, mask values).
// Built twice: as C++17 and as C++20 (span overloads). The experimental interfaces (tuning,
// budgets) are tested too, so they are declared here; make check-cpp also compiles the header
// without them.
#define AV_STATIC_LINKING_ONLY
#include "avengers/avengers.hpp"
#include "harness.h"
#include "testdata.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <map>
#include <string>
#include <vector>

static avengers::Router tiny_router(uint32_t top_p)
{
    // the router of tests/unit/router/test_router.c: three clusters on the unit axes, two models
    return avengers::Router::from_parts(2, {"small", "large"}, {1, 0, 0, 1, -1, 0},
                                        {10, 10, 10, 10, 10, 0}, {2, 9, 8, 9, 5, 0},
                                        {1, 10, 1, 10, 1, 0}, top_p);
}

// Run f and return the code of the avengers::Error it throws (0 if none, 1 for another exception).
template <class F> static int code_of(F f, std::string *what = nullptr)
{
    try {
        f();
    } catch (const avengers::Error &e) {
        if (what)
            *what = e.what();
        return e.code();
    } catch (...) {
        return 1;
    }
    return 0;
}

TEST(test_route_hand_computed)
{
    avengers::Router r = tiny_router(1);
    const std::vector<float> q0{3, 0.5f};
    const std::array<float, 2> q1{0.1f, 2};
    CHECK_EQ_INT(r.route(q0, 1.0f), 1);
    CHECK_EQ_INT(r.route(q0, 0.0f), 0);
    CHECK_EQ_INT(r.route(q0, 0.5f), 0); // tie: the cheaper model
    CHECK_EQ_INT(r.route(q1, 0.6f), 1);
    CHECK_EQ_INT(r.route(q1.data(), q1.size(), 0.4f), 0);
    const float q2[] = {-1, 0.2f};
    CHECK_EQ_INT(r.route(q2, 2, 1.0f), 1); // "large" takes its global mean in cluster 2
#ifdef AVENGERS_HPP_SPAN
    CHECK_EQ_INT(r.route(std::span<const float>(q2), 1.0f), 1);
    const float rows[] = {3, 0.5f, 0.1f, 2, -1, 0.2f};
    std::vector<int32_t> got = r.route_batch(std::span<const float>(rows), 1.0f);
    CHECK(got == (std::vector<int32_t>{1, 1, 1}));
    // strided rows: every row padded to 3 floats
    const float padded[] = {3, 0.5f, 99, 0.1f, 2, 99, -1, 0.2f};
    int32_t out[3];
    r.route_batch(std::span<const float>(padded), 3, 0.0f, std::span<int32_t>(out));
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0);
    CHECK_EQ_INT(code_of([&] { r.route_batch(std::span<const float>(padded, 7), 3, 0.0f,
                                             std::span<int32_t>(out)); }),
                 AV_ERANGE);
    CHECK_EQ_INT(code_of([&] { r.route_batch(std::span<const float>(rows, 5), 0.5f); }), AV_EDIM);
#endif
    CHECK_EQ_INT(r.dim(), 2);
    CHECK_EQ_INT(r.n_clusters(), 3);
    CHECK_EQ_INT(r.n_models(), 2);
    CHECK_EQ_INT(r.top_p(), 1);
    CHECK(r.models() == (std::vector<std::string>{"small", "large"}));
    CHECK_EQ_INT(r.model_index("large"), 1);
    avengers::ClusterStats s = r.cluster_stats(1, 0);
    CHECK(s.count == 10 && s.sum_score == 8 && s.sum_cost == 1);
    CHECK(r.centroid(2) == (std::vector<float>{-1, 0}));
    r.set_top_p(2);
    CHECK_EQ_INT(r.route(std::vector<float>{1, 0.9f}, 0.51f), 1);
    CHECK_EQ_INT(r.route(std::vector<float>{1, 0.9f}, 0.49f), 0);
}

TEST(test_errors)
{
    avengers::Router r = tiny_router(1);
    std::string what;
    CHECK_EQ_INT(code_of([&] { r.route(std::vector<float>{1, 0, 0}, 0.5f); }, &what), AV_EDIM);
    CHECK(what.find("3") != std::string::npos); // the detail names the wrong dimension
    CHECK_EQ_INT(code_of([&] { r.route(std::vector<float>{0, 0}, 0.5f); }), AV_EVECTOR);
    CHECK_EQ_INT(code_of([&] { r.route(std::vector<float>{NAN, 1}, 0.5f); }), AV_EVECTOR);
    CHECK_EQ_INT(code_of([&] { r.route(std::vector<float>{1, 0}, 1.5f); }), AV_EALPHA);
    CHECK_EQ_INT(code_of([&] { r.profile_update(std::vector<float>{1, 0}, 2, 1, 1); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.profile_update(std::vector<float>{1, 0}, 0, 1, -1); }), AV_EVALUE);
    CHECK_EQ_INT(code_of([&] { r.model_index("nope"); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.model_name(2); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.centroid(3); }), AV_ERANGE);
    CHECK_EQ_INT(code_of([&] { r.set_top_p(0); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::Router::load("/nonexistent/x.avr"); }, &what), AV_EIO);
    CHECK(what.find("/nonexistent/x.avr") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { avengers::Router::load_buffer("junk", 4); }) < 0, 1);
    CHECK_EQ_INT(code_of([&] {
                     avengers::Router::from_parts(2, {"a", "a"}, {1, 0, 0, 1}, {1, 1, 1, 1},
                                                  {1, 1, 1, 1}, {1, 1, 1, 1}, 1);
                 }),
                 AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::Builder b(0, {"a"}); }), AV_ELIMIT);
    avengers::Error e(AV_EDIM, "");
    CHECK(std::string(e.what()) == av_strerror(AV_EDIM) && e.code() == AV_EDIM);
    // the exception is a std::runtime_error for generic handlers
    bool generic = false;
    try {
        r.route(std::vector<float>{0, 0}, 0.5f);
    } catch (const std::runtime_error &) {
        generic = true;
    }
    CHECK(generic);
}

TEST(test_raii_and_moves)
{
    avengers::Router a = tiny_router(1);
    av_router *h = a.get();
    avengers::Router b = std::move(a);
    CHECK(!a && b && b.get() == h);
    avengers::Router c = tiny_router(2);
    c = std::move(b); // frees c's own router, takes b's
    CHECK(c.get() == h && !b);
    CHECK_EQ_INT(c.top_p(), 1);
    av_router *raw = c.release();
    CHECK(!c && raw == h);
    av_router_free(raw);
    avengers::Builder b1(2, {"x", "y"});
    avengers::Builder b2 = std::move(b1);
    CHECK(b1.get() == nullptr && b2.get() != nullptr);
}

TEST(test_fixture_builder_and_persistence)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    for (size_t i = 0; i < fx.n; i++)
        if (static_cast<const uint8_t *>(fx.split.data)[i])
            b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    CHECK_EQ_INT(b.n_rows(), 1123);
    avengers::Router r = b.fit(avengers::FitOptions().n_clusters(20).n_init(2).seed(7));
    CHECK(b.inertia() > 0);
    CHECK(r.metadata().at("seed") == "7");
    // the same options through the C API give the same router: compare decisions row by row
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_clusters = 20;
    o.n_init = 2;
    o.seed = 7;
    av_router *cr = nullptr;
    REQUIRE(av_builder_fit(b.get(), &o, &cr) == AV_OK);
    const float *emb = static_cast<const float *>(fx.emb.data);
    std::vector<int32_t> batch = r.route_batch(emb, fx.n, 0.7f);
    size_t same = 0;
    for (size_t i = 0; i < fx.n; i++)
        same += r.route(TD_EMB(&fx, i), fx.d, 0.7f) == static_cast<size_t>(av_route(cr, TD_EMB(&fx, i), fx.d, 0.7f)) &&
                batch[i] == av_route(cr, TD_EMB(&fx, i), fx.d, 0.7f);
    CHECK_EQ_INT(same, fx.n);
    av_router_free(cr);
    // save to a buffer and load it back: identical decisions and statistics
    std::vector<unsigned char> bytes = r.save_buffer();
    avengers::Router r2 = avengers::Router::load_buffer(bytes.data(), bytes.size());
    CHECK(r2.route_batch(emb, fx.n, 0.7f) == batch);
    CHECK(r2.cluster_stats(5, 3).sum_score == r.cluster_stats(5, 3).sum_score);
    // feedback through the wrapper lands in the statistics
    double before = 0, after = 0;
    for (size_t j = 0; j < r.n_clusters(); j++)
        before += r.cluster_stats(j, 4).count;
    r.profile_update(TD_EMB(&fx, 0), fx.d, 4, 1.0f, 0.5f);
    for (size_t j = 0; j < r.n_clusters(); j++)
        after += r.cluster_stats(j, 4).count;
    CHECK_NEAR(after - before, 1, 0);
    td_free_fixture(&fx);
}

TEST(test_route_ex_merge_evaluate)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    for (size_t i = 0; i < fx.n; i++)
        if (static_cast<const uint8_t *>(fx.split.data)[i])
            b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    avengers::Router r = b.fit(avengers::FitOptions().n_clusters(12).n_init(1).seed(3));
    // default per-request options decide as route(); a mask forces the model
    size_t same = 0;
    for (size_t i = 0; i < fx.n; i++)
        same += r.route_ex(TD_EMB(&fx, i), fx.d, avengers::RouteOptions(0.6f)) ==
                r.route(TD_EMB(&fx, i), fx.d, 0.6f);
    CHECK_EQ_INT(same, fx.n);
    std::vector<uint8_t> mask(fx.m, 0);
    mask[6] = 1;
    CHECK_EQ_INT(r.route_ex(TD_EMB(&fx, 0), fx.d, avengers::RouteOptions(0.6f).model_mask(mask)), 6);
    mask[6] = 0;
    CHECK_EQ_INT(code_of([&] { r.route_ex(TD_EMB(&fx, 0), fx.d, avengers::RouteOptions().model_mask(mask)); }),
                 AV_ENOMODEL);
    // merging a copy doubles every statistic
    std::vector<unsigned char> bytes = r.save_buffer();
    avengers::Router twin = avengers::Router::load_buffer(bytes.data(), bytes.size());
    avengers::ClusterStats before = r.cluster_stats(2, 5);
    r.merge(twin);
    avengers::ClusterStats after = r.cluster_stats(2, 5);
    CHECK(after.count == 2 * before.count && after.sum_score == 2 * before.sum_score);
    CHECK(r.centroid_hash().size() == 16 && r.metadata().count("centroid_hash") == 0);
    CHECK(r.centroid_type() == AV_CENTROIDS_F32);
    avengers::Router h = twin.convert(AV_CENTROIDS_F16);
    CHECK(h.centroid_type() == AV_CENTROIDS_F16);
    CHECK_EQ_INT(r.add_model("newcomer", 0.5, 0.01, 1.0), fx.m);
    // evaluation on the held-out rows: the alpha-1 point equals the mean score of the decisions
    std::vector<float> emb, sc, co;
    size_t nt = 0;
    for (size_t i = 0; i < fx.n; i++)
        if (!static_cast<const uint8_t *>(fx.split.data)[i]) {
            emb.insert(emb.end(), TD_EMB(&fx, i), TD_EMB(&fx, i) + fx.d);
            sc.insert(sc.end(), TD_SCORES(&fx, i), TD_SCORES(&fx, i) + fx.m);
            co.insert(co.end(), TD_COSTS(&fx, i), TD_COSTS(&fx, i) + fx.m);
            nt++;
        }
    avengers::Evaluation ev = twin.evaluate(emb.data(), nt, sc.data(), co.data(), names, {0.25, 1.0});
    CHECK_EQ_INT(ev.n_rows, nt);
    REQUIRE(ev.points.size() == 2 && ev.model_points.size() == fx.m);
    std::vector<int32_t> picks = twin.route_batch(emb.data(), nt, 1.0f);
    double sum = 0;
    for (size_t k = 0; k < nt; k++)
        sum += sc[k * fx.m + static_cast<size_t>(picks[k])];
    CHECK_NEAR(ev.points[1].mean_score, sum / static_cast<double>(nt), 1e-9);
    CHECK(ev.oracle.mean_score >= ev.points[1].mean_score);
    CHECK(!ev.frontier.empty());
    td_free_fixture(&fx);
}

TEST(test_ensemble_members)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    size_t rows = 0;
    for (size_t i = 0; i < fx.n; i++)
        if (static_cast<const uint8_t *>(fx.split.data)[i]) {
            b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
            rows++;
        }
    const uint32_t k = 10, members = 2;
    avengers::Router r =
        b.fit(avengers::FitOptions().n_clusters(k).top_p(2).n_init(1).seed(9).members(members));
    CHECK_EQ_INT(r.members(), members);
    CHECK_EQ_INT(r.n_clusters(), members * k);
    avengers::Router paper = b.fit(avengers::FitOptions().n_clusters(k).top_p(2).n_init(1).seed(9));
    CHECK_EQ_INT(paper.members(), 1);
    CHECK_EQ_INT(paper.n_clusters(), k);
    // each member's clusters hold every training row once
    for (size_t mb = 0; mb < members; mb++) {
        double n = 0;
        for (size_t j = mb * k; j < (mb + 1) * k; j++)
            n += r.cluster_stats(j, 0).count;
        CHECK_NEAR(n, static_cast<double>(rows), 0);
    }
    // the same options through the C API: the same decisions on every row
    av_fit_options o;
    av_fit_options_init(&o);
    CHECK_EQ_INT(o.members, 1);
    o.n_clusters = k;
    o.top_p = 2;
    o.n_init = 1;
    o.seed = 9;
    o.members = members;
    av_router *cr = nullptr;
    REQUIRE(av_builder_fit(b.get(), &o, &cr) == AV_OK);
    CHECK_EQ_INT(av_router_members(cr), members);
    const float *emb = static_cast<const float *>(fx.emb.data);
    std::vector<int32_t> batch = r.route_batch(emb, fx.n, 0.6f);
    std::vector<int32_t> single = paper.route_batch(emb, fx.n, 0.6f);
    size_t same = 0, differ = 0;
    for (size_t i = 0; i < fx.n; i++) {
        same += batch[i] == av_route(cr, TD_EMB(&fx, i), fx.d, 0.6f);
        differ += batch[i] != single[i];
    }
    CHECK_EQ_INT(same, fx.n);
    CHECK(differ > 0); // the second member changes some decisions
    av_router_free(cr);
    // members survive a save/load round trip
    std::vector<unsigned char> bytes = r.save_buffer();
    avengers::Router r2 = avengers::Router::load_buffer(bytes.data(), bytes.size());
    CHECK_EQ_INT(r2.members(), members);
    CHECK(r2.route_batch(emb, fx.n, 0.6f) == batch);
    // feedback adds one outcome to each member
    std::vector<double> before(members, 0), after(members, 0);
    for (size_t j = 0; j < r.n_clusters(); j++)
        before[j / k] += r.cluster_stats(j, 4).count;
    r.profile_update(TD_EMB(&fx, 0), fx.d, 4, 1.0f, 0.5f);
    for (size_t j = 0; j < r.n_clusters(); j++)
        after[j / k] += r.cluster_stats(j, 4).count;
    for (size_t mb = 0; mb < members; mb++)
        CHECK_NEAR(after[mb] - before[mb], 1, 0);
    // limits: more than AV_MAX_MEMBERS clusterings, or members * top_p over AV_MAX_TOP_P
    CHECK_EQ_INT(code_of([&] { b.fit(avengers::FitOptions().n_clusters(2).top_p(1).n_init(1).members(AV_MAX_MEMBERS + 1)); }),
                 AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { b.fit(avengers::FitOptions().n_clusters(40).top_p(33).n_init(1).members(2)); }),
                 AV_EINVAL);
    td_free_fixture(&fx);
}

// A router fitted on the fixture's training rows with the C++ wrapper; its builder stays in *b.
static avengers::Router fixture_router(const td_fixture &fx, avengers::Builder &b, uint32_t k, uint64_t seed)
{
    for (size_t i = 0; i < fx.n; i++)
        if (static_cast<const uint8_t *>(fx.split.data)[i])
            b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    return b.fit(avengers::FitOptions().n_clusters(k).n_init(1).seed(seed));
}

// The fixture's held-out rows, packed.
struct Heldout {
    std::vector<float> emb, sc, co;
    size_t n = 0;
};
static Heldout heldout(const td_fixture &fx)
{
    Heldout h;
    for (size_t i = 0; i < fx.n; i++)
        if (!static_cast<const uint8_t *>(fx.split.data)[i]) {
            h.emb.insert(h.emb.end(), TD_EMB(&fx, i), TD_EMB(&fx, i) + fx.d);
            h.sc.insert(h.sc.end(), TD_SCORES(&fx, i), TD_SCORES(&fx, i) + fx.m);
            h.co.insert(h.co.end(), TD_COSTS(&fx, i), TD_COSTS(&fx, i) + fx.m);
            h.n++;
        }
    return h;
}

static bool same_estimator(const av_estimator_options &a, const av_estimator_options &b)
{
    return a.kappa == b.kappa && a.weighting == b.weighting && a.temperature == b.temperature &&
           a.guard == b.guard && a.guard_margin == b.guard_margin && a.normalisation == b.normalisation;
}

TEST(test_estimator)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    avengers::Router r = fixture_router(fx, b, 12, 3);
    // the defaults are the C defaults (the paper's estimator) and what a new router reports
    av_estimator_options c0;
    av_estimator_options_init(&c0);
    avengers::EstimatorOptions d;
    CHECK(same_estimator(d.c, c0));
    CHECK(same_estimator(r.estimator().c, c0));
    CHECK(d.kappa() == 0 && d.weighting() == AV_WEIGHTING_HARD && !d.guard() &&
          d.normalisation() == AV_NORMALISE_CLUSTER);
    // a twin of the router gets the same settings through the C API
    std::vector<unsigned char> bytes = r.save_buffer();
    avengers::Router twin = avengers::Router::load_buffer(bytes.data(), bytes.size());
    avengers::EstimatorOptions e = avengers::EstimatorOptions().kappa(4).softmax(0.1f).guard(true, 0.02)
                                       .normalisation(AV_NORMALISE_GLOBAL);
    CHECK(e.kappa() == 4 && e.weighting() == AV_WEIGHTING_SOFTMAX && e.temperature() == 0.1f &&
          e.guard() && e.guard_margin() == 0.02 && e.normalisation() == AV_NORMALISE_GLOBAL);
    r.set_estimator(e);
    av_estimator_options c;
    av_estimator_options_init(&c);
    c.kappa = 4;
    c.weighting = AV_WEIGHTING_SOFTMAX;
    c.temperature = 0.1f;
    c.guard = 1;
    c.guard_margin = 0.02;
    c.normalisation = AV_NORMALISE_GLOBAL;
    REQUIRE(av_router_set_estimator(twin.get(), &c) == AV_OK);
    // read back: the wrapper's estimator() equals the C call on the same router, and the values set
    av_estimator_options got;
    av_estimator_options_init(&got);
    REQUIRE(av_router_get_estimator(r.get(), &got) == AV_OK);
    CHECK(same_estimator(r.estimator().c, got));
    CHECK(same_estimator(got, c));
    CHECK(r.metadata().count("kappa") == 0 && av_router_meta(twin.get(), "kappa") == nullptr);
    CHECK(r.metadata().count("weighting") == 0 && r.metadata().count("normalisation") == 0);
    // same settings, same decisions; and they differ from the paper's rule somewhere
    avengers::Router paper = avengers::Router::load_buffer(bytes.data(), bytes.size());
    size_t same = 0, differ = 0;
    for (size_t i = 0; i < fx.n; i++) {
        size_t m = r.route(TD_EMB(&fx, i), fx.d, 0.6f);
        same += m == static_cast<size_t>(av_route(twin.get(), TD_EMB(&fx, i), fx.d, 0.6f));
        differ += m != paper.route(TD_EMB(&fx, i), fx.d, 0.6f);
    }
    CHECK_EQ_INT(same, fx.n);
    CHECK(differ > 0);
    // the settings survive a save/load round trip (they live in the metadata)
    std::vector<unsigned char> saved = r.save_buffer();
    CHECK(same_estimator(avengers::Router::load_buffer(saved.data(), saved.size()).estimator().c, c));
    // bad values throw AV_EINVAL and leave the router's settings as they were
    std::string what;
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().kappa(-1)); }, &what), AV_EINVAL);
    CHECK(what.find("kappa") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().kappa(NAN)); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().softmax(0)); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().weighting(AV_WEIGHTING_ROUTER)); }),
                 AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().normalisation(7)); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.set_estimator(avengers::EstimatorOptions().guard(true, INFINITY)); }), AV_EINVAL);
    CHECK(same_estimator(r.estimator().c, c));
    // back to the paper: decisions equal the untouched router's
    r.set_estimator(avengers::EstimatorOptions());
    same = 0;
    for (size_t i = 0; i < fx.n; i++)
        same += r.route(TD_EMB(&fx, i), fx.d, 0.6f) == paper.route(TD_EMB(&fx, i), fx.d, 0.6f);
    CHECK_EQ_INT(same, fx.n);
    td_free_fixture(&fx);
}

TEST(test_budgets)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    avengers::Router r = fixture_router(fx, b, 12, 3);
    Heldout h = heldout(fx);
    REQUIRE(h.n > 0);
    // expected_mean equals the C call, on the training statistics and on replay sets
    for (float alpha : {0.0f, 0.3f, 0.75f, 1.0f}) {
        double s = 0, c = 0;
        REQUIRE(av_router_expected_mean(r.get(), alpha, nullptr, 0, fx.d, nullptr, nullptr, &s, &c) == AV_OK);
        avengers::ExpectedMean m = r.expected_mean(alpha);
        CHECK(m.score == s && m.cost == c);
        REQUIRE(av_router_expected_mean(r.get(), alpha, h.emb.data(), h.n, fx.d, h.sc.data(), h.co.data(),
                                        &s, &c) == AV_OK);
        m = r.expected_mean(alpha, h.emb, h.sc, h.co);
        CHECK(m.score == s && m.cost == c);
        avengers::ExpectedMean p = r.expected_mean(alpha, h.emb.data(), h.n, h.sc.data(), h.co.data());
        CHECK(p.score == s && p.cost == c);
        REQUIRE(av_router_expected_mean(r.get(), alpha, h.emb.data(), h.n, fx.d, nullptr, h.co.data(),
                                        &s, &c) == AV_OK);
        m = r.expected_mean(alpha, h.emb, {}, h.co);
        CHECK(m.score == s && m.cost == c);
#ifdef AVENGERS_HPP_SPAN
        m = r.expected_mean(alpha, std::span<const float>(h.emb), std::span<const float>(), std::span<const float>(h.co));
        CHECK(m.score == s && m.cost == c);
#endif
    }
    // with full replay values the mean is that of the decisions: an independent computation
    std::vector<int32_t> picks = r.route_batch(h.emb.data(), h.n, 0.4f);
    double ss = 0, sc = 0;
    for (size_t k = 0; k < h.n; k++) {
        ss += h.sc[k * fx.m + static_cast<size_t>(picks[k])];
        sc += h.co[k * fx.m + static_cast<size_t>(picks[k])];
    }
    avengers::ExpectedMean at = r.expected_mean(0.4f, h.emb, h.sc, h.co);
    CHECK_NEAR(at.score, ss / static_cast<double>(h.n), 1e-9);
    CHECK_NEAR(at.cost, sc / static_cast<double>(h.n), 1e-9);
    // alpha for a budget / an accuracy: equal to the C calls, and to the rule evaluated on the grid
    const avengers::ExpectedMean lo = r.expected_mean(0.0f), hi = r.expected_mean(1.0f);
    const uint32_t grid = 21;
    for (double frac : {0.25, 0.5, 0.9}) {
        double budget = lo.cost + frac * (hi.cost - lo.cost);
        float ca = -1;
        REQUIRE(av_router_alpha_for_budget(r.get(), budget, nullptr, 0, fx.d, nullptr, nullptr, grid, &ca) == AV_OK);
        float a = r.alpha_for_budget(budget, grid);
        CHECK(a == ca);
        // independent: the best score within the budget (ties: cheaper, smaller alpha)
        float want = -1;
        avengers::ExpectedMean best{0, 0};
        for (uint32_t g = 0; g < grid; g++) {
            float x = static_cast<float>(static_cast<double>(g) / (grid - 1));
            avengers::ExpectedMean m = r.expected_mean(x);
            if (m.cost <= budget && (want < 0 || m.score > best.score || (m.score == best.score && m.cost < best.cost))) {
                want = x;
                best = m;
            }
        }
        CHECK(a == want);
        double target = lo.score + frac * (hi.score - lo.score);
        REQUIRE(av_router_alpha_for_accuracy(r.get(), target, nullptr, 0, fx.d, nullptr, nullptr, grid, &ca) == AV_OK);
        a = r.alpha_for_accuracy(target, grid);
        CHECK(a == ca);
        CHECK(r.expected_mean(a).score >= target);
        // on the replay set, with the default grid of 101
        REQUIRE(av_router_alpha_for_budget(r.get(), budget, h.emb.data(), h.n, fx.d, h.sc.data(), h.co.data(), 0,
                                           &ca) == AV_OK);
        CHECK(r.alpha_for_budget(budget, h.emb, h.sc, h.co) == ca);
        CHECK(r.alpha_for_budget(budget, h.emb.data(), h.n, h.sc.data(), h.co.data()) == ca);
        REQUIRE(av_router_alpha_for_accuracy(r.get(), target, h.emb.data(), h.n, fx.d, h.sc.data(), h.co.data(), 0,
                                             &ca) == AV_OK);
        CHECK(r.alpha_for_accuracy(target, h.emb, h.sc, h.co) == ca);
    }
    // a share of calls: the wrapper equals the C call, on the replay set and the training
    // statistics, and the share it reports is the routed share counted here with route()
    for (double share : {0.1, 0.3}) {
        const std::vector<uint8_t> mask0{1};
        float ca = -1;
        double cs = -1;
        REQUIRE(av_router_alpha_for_share(r.get(), mask0.data(), 1, share, h.emb.data(), h.n, fx.d, 21,
                                          &ca, &cs) == AV_OK);
        avengers::SharedAlpha got = r.alpha_for_share({0}, share, h.emb, 21);
        CHECK(got.alpha == ca && got.share == cs);
        std::size_t to0 = 0;
        for (std::size_t k = 0; k < h.n; k++)
            to0 += r.route(h.emb.data() + k * fx.d, fx.d, got.alpha) == 0;
        CHECK_NEAR(got.share, static_cast<double>(to0) / static_cast<double>(h.n), 1e-12);
        REQUIRE(av_router_alpha_for_share(r.get(), mask0.data(), 1, share, nullptr, 0, fx.d, 21, &ca,
                                          &cs) == AV_OK);
        CHECK(r.alpha_for_share({0}, share, {}, 21).alpha == ca);
    }
    CHECK_EQ_INT(code_of([&] { r.alpha_for_share({99}, 0.5); }), AV_EMODEL);
    // errors (docs/API.md): nothing within a zero budget, an unreachable accuracy, bad arguments
    std::string what;
    CHECK_EQ_INT(code_of([&] { r.alpha_for_budget(0.0); }, &what), AV_ENOMODEL);
    CHECK(!what.empty());
    CHECK_EQ_INT(code_of([&] { r.alpha_for_budget(0.0, h.emb, h.sc, h.co); }), AV_ENOMODEL);
    CHECK_EQ_INT(code_of([&] { r.alpha_for_accuracy(2.0); }), AV_ENOMODEL);
    CHECK_EQ_INT(code_of([&] { r.alpha_for_budget(NAN); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.alpha_for_budget(1.0, 1); }), AV_EINVAL); // a grid needs 2 points
    CHECK_EQ_INT(code_of([&] { r.expected_mean(1.5f); }), AV_EALPHA);
    CHECK_EQ_INT(code_of([&] { r.expected_mean(0.5f, std::vector<float>{}); }), AV_EEMPTY);
    CHECK_EQ_INT(code_of([&] { r.expected_mean(0.5f, std::vector<float>(fx.d + 1, 1.0f)); }), AV_EDIM);
    CHECK_EQ_INT(code_of([&] { r.expected_mean(0.5f, h.emb, std::vector<float>(3, 0.5f)); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { r.expected_mean(0.5f, h.emb.data(), h.n, nullptr, nullptr); }), 0);
    std::vector<float> zero_row(fx.d, 0.0f);
    CHECK_EQ_INT(code_of([&] { r.expected_mean(0.5f, zero_row); }), AV_EVECTOR);
    td_free_fixture(&fx);
}

// Progress callbacks: SAMPLED's passes through FitOptions::pass_progress (the rows searched
// when the library fills them), the tuning's through TuneOptions::progress; returning true
// cancels with AV_ECANCELED, and an exception thrown in either is rethrown by fit() itself.
struct Boom {
    int at;
};

TEST(test_progress_callbacks)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    for (size_t i = 0; i < fx.n; i++)
        b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    std::vector<uint32_t> stages;
    std::vector<size_t> searched;
    avengers::FitOptions fo = avengers::FitOptions().n_clusters(8).n_init(1).seed(2)
                                  .algorithm(AV_KMEANS_SAMPLED).sample_size(300)
                                  .pass_progress([&](const av_fit_progress &p) {
                                      stages.push_back(p.stage);
                                      size_t end = offsetof(av_fit_progress, rows_searched) +
                                                   sizeof p.rows_searched;
                                      searched.push_back(p.struct_size >= end ? p.rows_searched
                                                                              : 0);
                                  });
    avengers::Router r = b.fit(fo);
    REQUIRE(stages.size() >= 3);
    CHECK(stages.front() == AV_FIT_STAGE_SAMPLE && stages.back() == AV_FIT_STAGE_STATS);
    CHECK(stages[1] == AV_FIT_STAGE_PASS);
    CHECK_EQ_INT(searched[1], fx.n); // the first pass searches every row
    CHECK_EQ_INT(r.n_clusters(), 8);
    // an exception in pass_progress: fit() rethrows it, the same type and value
    int at = -1;
    try {
        b.fit(avengers::FitOptions(fo).pass_progress([](const av_fit_progress &p) {
            if (p.stage == AV_FIT_STAGE_PASS)
                throw Boom{static_cast<int>(p.pass)};
        }));
    } catch (const Boom &e) {
        at = e.at;
    }
    CHECK_EQ_INT(at, 1);
    // the tuning's progress: called, and true cancels
    avengers::TuneOptions t;
    t.n_clusters({8}).n_folds(2).n_init(1);
    int calls = 0;
    t.progress([&](const av_tune_progress &) { return ++calls == 2; });
    avengers::FitOptions tf = avengers::FitOptions().n_init(1).tune(t);
    CHECK_EQ_INT(code_of([&] { b.fit(tf); }), AV_ECANCELED);
    CHECK_EQ_INT(calls, 2);
    // an exception in it cancels and comes back out of fit()
    t.progress([](const av_tune_progress &p) -> bool { throw Boom{static_cast<int>(p.stage) + 10}; });
    at = -1;
    try {
        b.fit(tf);
    } catch (const Boom &e) {
        at = e.at;
    }
    CHECK_EQ_INT(at, AV_TUNE_STAGE_FIT + 10);
    // without a callback the tuning runs to its end
    t.progress(nullptr);
    CHECK(b.fit(tf).n_clusters() == 8);
    td_free_fixture(&fx);
}

TEST(test_tune)
{
    td_fixture fx;
    REQUIRE(td_load_fixture(&fx) == 0);
    std::vector<std::string> names(fx.names, fx.names + fx.m);
    avengers::Builder b(fx.d, names);
    for (size_t i = 0; i < fx.n; i++)
        if (static_cast<const uint8_t *>(fx.split.data)[i])
            b.add(TD_EMB(&fx, i), fx.d, TD_SCORES(&fx, i), TD_COSTS(&fx, i));
    // the default grid holds the C default grid's lists
    av_tune_options g;
    av_tune_options_init(&g);
    av_tune_options_default_grid(&g);
    avengers::TuneOptions dg = avengers::TuneOptions::default_grid();
    CHECK(dg.n_clusters() == std::vector<uint32_t>(g.n_clusters, g.n_clusters + g.n_n_clusters));
    CHECK(dg.top_p() == std::vector<uint32_t>(g.top_p, g.top_p + g.n_top_p));
    CHECK(dg.kappa() == std::vector<double>(g.kappa, g.kappa + g.n_kappa));
    CHECK(dg.members() == std::vector<uint32_t>(g.members, g.members + g.n_members));
    CHECK(dg.temperatures().empty() && g.temperatures == nullptr);
    CHECK(dg.global_normalisation() == (g.global_normalisation != 0));
    CHECK(dg.n_folds() == g.n_folds && dg.n_alphas() == g.n_alphas && dg.n_init() == g.n_init);
    // a small run: two k candidates, two kappas, 3 folds, one restart
    avengers::TuneOptions t;
    CHECK(t.best_auc() == 0 && t.n_clusters().empty());
    t.n_clusters({8, 16}).kappa({0, 4}).n_folds(3).n_init(1);
    avengers::FitOptions fo = avengers::FitOptions().n_init(1).seed(5).tune(t);
    avengers::Router r = b.fit(fo);
    // the same options through the C API
    const uint32_t ks[] = {8, 16};
    const double kappas[] = {0, 4};
    av_tune_options ct;
    av_tune_options_init(&ct);
    ct.n_clusters = ks;
    ct.n_n_clusters = 2;
    ct.kappa = kappas;
    ct.n_kappa = 2;
    ct.n_folds = 3;
    ct.n_init = 1;
    av_fit_options o;
    av_fit_options_init(&o);
    o.n_init = 1;
    o.seed = 5;
    o.tune = &ct;
    av_router *cr = nullptr;
    REQUIRE(av_builder_fit(b.get(), &o, &cr) == AV_OK);
    CHECK(t.best_auc() > 0 && t.best_auc() <= 1);
    // options are inputs only: the AUC is the router's metadata, the options struct is unwritten
    CHECK(ct.unused0 == 0.0);
    CHECK(t.best_auc() == std::stod(av_router_meta(cr, "tuned_cv_auc")));
    // metadata equal key by key, except the creation time
    std::map<std::string, std::string> md = r.metadata();
    CHECK_EQ_INT(md.size(), av_router_meta_count(cr));
    size_t equal = 0;
    for (size_t i = 0; i < av_router_meta_count(cr); i++) {
        const char *k = nullptr, *v = nullptr;
        REQUIRE(av_router_meta_at(cr, i, &k, &v) == AV_OK);
        equal += md.count(k) && (std::string(k) == "created" || md.at(k) == v);
    }
    CHECK_EQ_INT(equal, av_router_meta_count(cr));
    CHECK(md.at("tuned_folds") == "3" && md.at("tuned_candidates") == "4");
    CHECK(md.at("tuned_n_clusters") == "8" || md.at("tuned_n_clusters") == "16");
    CHECK_EQ_INT(r.n_clusters(), std::stoul(md.at("tuned_n_clusters")));
    CHECK(std::stod(md.at("tuned_cv_auc")) == t.best_auc());
    CHECK(same_estimator(r.estimator().c, avengers::Router(cr).estimator().c)); // frees cr
    // bad candidate lists and fold counts throw AV_EINVAL and keep best_auc as it was
    const double auc = t.best_auc();
    avengers::TuneOptions bad;
    bad.kappa({-1});
    CHECK_EQ_INT(code_of([&] { b.fit(avengers::FitOptions().n_init(1).tune(bad)); }), AV_EINVAL);
    bad.kappa({}).n_folds(1);
    CHECK_EQ_INT(code_of([&] { b.fit(avengers::FitOptions().n_init(1).tune(bad)); }), AV_EINVAL);
    avengers::TuneOptions bad_m;
    bad_m.members({AV_MAX_MEMBERS + 1});
    CHECK_EQ_INT(code_of([&] { b.fit(avengers::FitOptions().n_init(1).tune(bad_m)); }), AV_EINVAL);
    CHECK(bad.best_auc() == 0 && t.best_auc() == auc);
    td_free_fixture(&fx);
}

// Arguments C cannot represent throw before the call (0.2.0 narrowed them silently or cut the
// string at its NUL): the router is unchanged afterwards.
static std::string snapshot(const avengers::Router &r)
{
    std::string s = std::to_string(r.top_p()) + "|" + std::to_string(r.n_models()) + "|";
    for (const auto &kv : r.metadata())
        s += kv.first + "=" + kv.second + ";";
    for (size_t j = 0; j < r.n_clusters(); j++)
        for (size_t i = 0; i < r.n_models(); i++) {
            avengers::ClusterStats c = r.cluster_stats(j, i);
            s += std::to_string(c.count) + "," + std::to_string(c.sum_score) + "," +
                 std::to_string(c.sum_cost) + ";";
        }
    return s;
}

TEST(test_integers_out_of_range)
{
    avengers::Router r = tiny_router(1);
    const std::string before = snapshot(r);
    const std::vector<float> q{1, 0.1f};
    const uint64_t big = (uint64_t{1} << 32) + 2; // 2 once narrowed to uint32_t
    std::string what;
    CHECK_EQ_INT(code_of([&] { r.set_top_p(big); }, &what), AV_EINVAL);
    CHECK(what.find("top_p") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.set_top_p(-1); }), AV_EINVAL);
    // model indices: int32_t in av_profile_update, size_t elsewhere
    CHECK_EQ_INT(code_of([&] { r.profile_update(q, (uint64_t{1} << 32) + 1, 1, 0.1f); }, &what), AV_EMODEL);
    CHECK(what.find("model") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.profile_update(q.data(), q.size(), uint64_t{1} << 31, 1, 0.1f); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.profile_update(q, -1, 1, 0.1f); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.cluster_stats(-1, 0); }, &what), AV_ERANGE);
    CHECK(what.find("cluster") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.cluster_stats(0, -1); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.centroid(-3); }), AV_ERANGE);
    CHECK_EQ_INT(code_of([&] { r.model_name(-1); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.alpha_for_budget(1.0, big); }, &what), AV_EINVAL);
    CHECK(what.find("n_grid") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.alpha_for_accuracy(0.1, -1); }), AV_EINVAL);
#ifdef AVENGERS_HPP_SPAN
    CHECK_EQ_INT(code_of([&] { r.profile_update(std::span<const float>(q), int64_t{-5}, 1, 0.1f); }), AV_EMODEL);
    const float rows[] = {1, 0, 0, 1, -1, 0};
    int32_t out[3];
    CHECK_EQ_INT(code_of([&] { r.route_batch(std::span<const float>(rows), SIZE_MAX / 2 + 1, 0.5f,
                                             std::span<int32_t>(out)); }),
                 AV_ERANGE);
#endif
    CHECK(snapshot(r) == before);
    // options: the value is refused where it is set, before any C call
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().n_clusters(big); }, &what), AV_EINVAL);
    CHECK(what.find("n_clusters") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().top_p(-1); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().n_init(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().max_iter(int64_t{-300}); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().members(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::FitOptions().seed(-1); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::TuneOptions().n_folds(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::TuneOptions().n_alphas(-21); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::TuneOptions().n_init(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::RouteOptions().top_p(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::EstimatorOptions().weighting(big); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::EstimatorOptions().normalisation(-1); }), AV_EINVAL);
    CHECK_EQ_INT(code_of([&] { avengers::Builder b(-1, {"a"}); }, &what), AV_EINVAL);
    CHECK(what.find("dim") != std::string::npos);
    CHECK_EQ_INT(code_of([&] {
                     avengers::Router::from_parts(2, {"a", "b"}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, big);
                 }),
                 AV_EINVAL);
    // in-range values of any integer type still work
    CHECK(avengers::FitOptions().n_clusters(uint64_t{60}).seed(uint64_t{1} << 63).c.n_clusters == 60);
    r.set_top_p(int64_t{2});
    CHECK_EQ_INT(r.top_p(), 2);
}

TEST(test_model_mask_values)
{
    avengers::Router r = tiny_router(1);
    const std::vector<float> q{1, 0.1f};
    std::string what;
    // a mask holds 0 or 1 per model
    CHECK_EQ_INT(code_of([&] { avengers::RouteOptions().model_mask({0, 2}); }, &what), AV_EINVAL);
    CHECK(what.find("model_mask[1]") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { avengers::RouteOptions().model_mask({255, 1}); }), AV_EINVAL);
    // allowing a model the router does not have is an error, not ignored
    CHECK_EQ_INT(code_of([&] { r.route_ex(q.data(), q.size(), avengers::RouteOptions(1.0f).model_mask({1, 0, 1})); }),
                 AV_EMODEL);
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), avengers::RouteOptions(1.0f).model_mask({1, 0, 0})), 0);
    // the mask is copied: a temporary is fine, and an empty mask allows no model (not every one)
    avengers::RouteOptions o(1.0f);
    {
        std::vector<uint8_t> tmp{1, 0};
        o.model_mask(tmp);
        tmp.assign(2, 0);
    }
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), o), 0);
    avengers::RouteOptions copy = o;
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), copy), 0);
    CHECK_EQ_INT(code_of([&] { r.route_ex(q.data(), q.size(), avengers::RouteOptions(1.0f).model_mask({})); }),
                 AV_ENOMODEL);
}

/* Options own what they point to: temporaries (the options or their arguments) die before the
   call, their memory is reused, and the decision still follows the mask (ASan: make asan). */
static avengers::RouteOptions mask_from_a_temporary(std::size_t allowed, std::size_t m)
{
    std::vector<uint8_t> v(m, 0);
    v[allowed] = 1;
    return avengers::RouteOptions(1.0f).model_mask(std::move(v)).embedder_id(std::string("emb-") + "id");
}

TEST(test_route_options_own_their_data)
{
    avengers::Router r = tiny_router(1);
    const std::vector<float> q{1, 0.1f};
    /* alpha 1 prefers model 1 here; each mask forbids it */
    CHECK_EQ_INT(r.route(q.data(), q.size(), 1.0f), 1);
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), avengers::RouteOptions(1.0f).model_mask({1, 0})).model, 0);
    const auto &bound = avengers::RouteOptions(1.0f).model_mask({1, 0}); /* a value, not a reference */
    std::vector<uint8_t> scribble(64, 1); /* reuse the heap where the temporaries were */
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), bound).model, 0);
    avengers::RouteOptions o = mask_from_a_temporary(0, 2);
    CHECK(o.embedder_id() && *o.embedder_id() == "emb-id");
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), o).model, 0); /* the router records no embedder */
    avengers::RouteOptions moved = std::move(o);
    avengers::RouteOptions copied = moved;
    moved = mask_from_a_temporary(1, 2);
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), copied).model, 0);
    CHECK_EQ_INT(r.route_ex(q.data(), q.size(), moved).model, 1);
    av_route_options c = copied.get();
    CHECK(c.model_mask != nullptr && c.model_mask_len == 2 && c.model_mask[0] == 1 && c.model_mask[1] == 0);
    CHECK(std::string(c.embedder_id) == "emb-id");
    std::string what;
    CHECK_EQ_INT(code_of([&] { avengers::RouteOptions().embedder_id(std::string("a\0b", 3)); }, &what), AV_EINVAL);
    (void)scribble;
}

/* route_ex explains its decision; every figure by hand from tiny_router's statistics. */
TEST(test_route_ex_explanation)
{
    avengers::Router r = tiny_router(1);
    const std::vector<float> q{1, 0.1f};
    avengers::RouteExplanation e = r.route_ex(q.data(), q.size(), avengers::RouteOptions(0.7f));
    /* cluster 0 is nearest (cos 1/sqrt(1.01)); means there: small p 0.2 q 0.1, large p 0.9 q 1.0,
       min-max normalised small (0, 0), large (1, 1): x = 0.7 p~ + 0.3 (1 - q~) */
    CHECK_EQ_INT(e.model, 1);
    CHECK_EQ_INT(static_cast<std::size_t>(e), 1);
    CHECK_EQ_INT(e.n_models, 2);
    CHECK_EQ_INT(e.n_feasible, 2);
    REQUIRE(e.ranked.size() == 2 && e.ranked_scores.size() == 2);
    CHECK_EQ_INT(e.ranked[0], 1);
    CHECK_EQ_INT(e.ranked[1], 0);
    CHECK_NEAR(e.ranked_scores[0], 0.7, 1e-6);
    CHECK_NEAR(e.ranked_scores[1], 0.3, 1e-6);
    REQUIRE(e.model_scores.size() == 2 && e.expected_score.size() == 2 && e.expected_cost.size() == 2);
    CHECK_NEAR(e.model_scores[0], 0.3, 1e-6);
    CHECK_NEAR(e.model_scores[1], 0.7, 1e-6);
    CHECK_NEAR(e.expected_score[0], 0.2, 1e-9);
    CHECK_NEAR(e.expected_score[1], 0.9, 1e-9);
    CHECK_NEAR(e.expected_cost[0], 0.1, 1e-9);
    CHECK_NEAR(e.expected_cost[1], 1.0, 1e-9);
    REQUIRE(e.clusters.size() == 1 && e.cluster_sims.size() == 1);
    CHECK_EQ_INT(e.clusters[0], 0);
    CHECK_NEAR(e.cluster_sims[0], 1.0 / std::sqrt(1.01), 1e-6);
    CHECK_NEAR(e.best_similarity, 1.0 / std::sqrt(1.01), 1e-6);
    CHECK_NEAR(e.cluster_weights[0], 1.0, 1e-12);
    CHECK_NEAR(e.cluster_support[0], 10.0, 0);
    CHECK_NEAR(e.support, 10.0, 0);
    CHECK(!e.guarded);
    /* the baseline at 0.7 by the global means (small 0.5 at 0.1, large 0.9 at 1.0) is large too:
       no deviation, no gain; the errors of cluster 0's means (10 outcomes each) are
       p (1 - p) / 10 with p the Beta posterior mean: small 3/12, large 10/12 */
    CHECK_EQ_INT(e.baseline, 1);
    CHECK(!e.deviated);
    CHECK_NEAR(e.gain, 0.0, 0);
    REQUIRE(e.expected_score_se.size() == 2);
    CHECK_NEAR(e.expected_score_se[0], std::sqrt(0.25 * 0.75 / 10.0), 1e-12);
    CHECK_NEAR(e.expected_score_se[1], std::sqrt((10.0 / 12.0) * (2.0 / 12.0) / 10.0), 1e-12);
    avengers::RouteExplanation safe =
        r.route_ex(q.data(), q.size(), avengers::RouteOptions(0.2f).safety(INFINITY));
    CHECK_EQ_INT(safe.model, 0); /* at 0.2 the baseline is small */
    CHECK_EQ_INT(safe.baseline, 0);
    CHECK_EQ_INT(code_of([&] { r.route_ex(q.data(), q.size(), avengers::RouteOptions(0.2f).safety(-1)); }),
                 AV_EINVAL);
    avengers::RouteExplanation two = r.route_ex(q.data(), q.size(), avengers::RouteOptions(0.7f).top_p(2));
    REQUIRE(two.clusters.size() == 2);
    CHECK_EQ_INT(two.clusters[0], 0);
    CHECK_EQ_INT(two.clusters[1], 1);
    avengers::RouteExplanation only0 = r.route_ex(q.data(), q.size(), avengers::RouteOptions(0.7f).model_mask({1, 0}));
    CHECK_EQ_INT(only0.model, 0);
    CHECK_EQ_INT(only0.n_feasible, 1);
    CHECK_EQ_INT(only0.ranked.size(), 1);
}

TEST(test_strings_with_nul)
{
    using namespace std::string_literals;
    avengers::Router r = tiny_router(1);
    const std::string before = snapshot(r);
    std::string what;
    char dir[] = "/tmp/avengers-hpp-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const std::string base = std::string(dir) + "/a.avr";
    CHECK_EQ_INT(code_of([&] { r.save(base + "\0.bak"s); }, &what), AV_EINVAL);
    CHECK(what.find("path") != std::string::npos && what.find("NUL") != std::string::npos);
    CHECK(std::fopen(base.c_str(), "rb") == nullptr); // 0.2.0 wrote a.avr
    r.save(base);
    CHECK_EQ_INT(code_of([&] { avengers::Router::load(base + "\0junk"s); }), AV_EINVAL);
    std::remove(base.c_str());
    rmdir(dir);
    CHECK_EQ_INT(code_of([&] { r.set_meta("note\0hidden"s, "v"); }, &what), AV_EINVAL);
    CHECK(what.find("key") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.set_meta("note", "visible\0hidden"s); }, &what), AV_EINVAL);
    CHECK(what.find("value") != std::string::npos);
    CHECK_EQ_INT(code_of([&] { r.model_index("large\0junk"s); }), AV_EINVAL); // 0.2.0: 1
    CHECK_EQ_INT(code_of([&] { r.add_model("newcomer\0junk"s, 0.5, 0.01, 1.0); }), AV_EINVAL);
    const std::vector<float> e{1, 0.1f}, sc{0.5f, 0.5f}, co{0.1f, 0.1f};
    CHECK_EQ_INT(code_of([&] { r.evaluate(e.data(), 1, sc.data(), co.data(), {"small\0x"s, "large"}); }),
                 AV_EINVAL);
    CHECK(snapshot(r) == before);
    CHECK_EQ_INT(code_of([&] { avengers::Builder b(2, {"a", "b\0c"s}); }, &what), AV_EINVAL);
    CHECK(what.find("model name 1") != std::string::npos);
    CHECK_EQ_INT(code_of([&] {
                     avengers::Router::from_parts(2, {"a\0x"s, "b"}, {1, 0}, {1, 1}, {1, 1}, {1, 1}, 1);
                 }),
                 AV_EINVAL);
}

// Names the library refuses (not UTF-8, control characters) are its own AV_EINVAL; skipped
// while the linked library still accepts them.
TEST(test_bad_names_are_the_library_error)
{
    av_builder *probe = nullptr;
    const char *probe_names[] = {"caf\xe9"};
    int rc = av_builder_new(&probe, 2, 1, probe_names);
    av_builder_free(probe);
    if (rc == 0) {
        printf("skip: this libavengers still accepts names that are not UTF-8\n");
        return;
    }
    avengers::Router r = tiny_router(1);
    const std::string before = snapshot(r);
    for (const std::string bad : {"caf\xe9", "tab\there", "bell\a", "\xff\xfe"}) {
        CHECK_EQ_INT(code_of([&] { avengers::Builder b(2, {"ok", bad}); }), AV_EINVAL);
        CHECK_EQ_INT(code_of([&] { r.add_model(bad, 0.5, 0.01, 1.0); }), AV_EINVAL);
        CHECK_EQ_INT(code_of([&] { r.set_meta(bad, "v"); }), AV_EINVAL);
        // metadata values may hold tab, line feed and carriage return (free text)
        if (bad.find('\t') == std::string::npos)
            CHECK_EQ_INT(code_of([&] { r.set_meta("note", bad); }), AV_EINVAL);
    }
    CHECK_EQ_INT(code_of([&] { r.set_meta("note", "esc\x1b[0m"); }), AV_EINVAL);
    CHECK(snapshot(r) == before);
    r.set_meta("note", "tab\there");
    CHECK(r.metadata().at("note") == "tab\there");
}

TEST(test_prices)
{
    avengers::Router r = tiny_router(1);
    const std::vector<float> q0{1, 0};
    CHECK_EQ_INT(r.route(q0, 0.2f), 0);
    avengers::Price none = r.get_price(1);
    CHECK(none.unit() == AV_PRICE_NONE && none.cost_per_query() == 1.0);
    // "large" 10x cheaper: its cost sums x 0.1, and the better model wins below alpha 1
    CHECK(r.set_price(1, avengers::Price::per_query(0.1)) == 0.1);
    CHECK(r.cluster_stats(0, 1).sum_cost == 10 * 0.1);
    CHECK_EQ_INT(r.route(q0, 0.2f), 1);
    double f = r.set_price(1u, avengers::Price::per_token(1e-3, 2e-3, 100, 50));
    CHECK(std::fabs(f - 0.2 / 0.1) < 1e-12);
    avengers::Price got = r.get_price(1);
    CHECK(got.unit() == AV_PRICE_PER_TOKEN && got.input_tokens() == 100 &&
          std::fabs(got.cost_per_query() - 0.2) < 1e-15);
    std::vector<unsigned char> bytes = r.save_buffer();
    avengers::Router l = avengers::Router::load_buffer(bytes.data(), bytes.size());
    CHECK(l.get_price(1).cost_per_query() == got.cost_per_query());
    CHECK_EQ_INT(code_of([&] { r.set_price(5, avengers::Price::per_query(1)); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.set_price(-1, avengers::Price::per_query(1)); }), AV_EMODEL);
    CHECK_EQ_INT(code_of([&] { r.set_price(0, avengers::Price::per_query(-1)); }), AV_EVALUE);
    // a cancelled tuning's code has its own text
    CHECK(std::string(avengers::Error(AV_ECANCELED, "").text()) == "cancelled by the caller's callback");
}

TH_MAIN(T(test_route_hand_computed), T(test_errors), T(test_raii_and_moves),
        T(test_fixture_builder_and_persistence), T(test_route_ex_merge_evaluate),
        T(test_ensemble_members), T(test_estimator), T(test_budgets), T(test_progress_callbacks), T(test_tune),
        T(test_integers_out_of_range), T(test_model_mask_values), T(test_route_options_own_their_data),
        T(test_route_ex_explanation), T(test_strings_with_nul),
        T(test_bad_names_are_the_library_error), T(test_prices))
