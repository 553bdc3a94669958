// The C++ wrapper (avengers.hpp): hand-computed routing through every overload, exceptions with
// codes and details, RAII and moves, builder and persistence on the llm9 fixture, and agreement
// of every C++ entry point with the C calls. Built twice: as C++17 and as C++20 (span overloads).
#include "avengers/avengers.hpp"
#include "harness.h"
#include "testdata.h"

#include <array>
#include <cmath>
#include <string>
#include <vector>

static avengers::Router tiny_router(uint32_t top_p)
{
    // the router of tests/unit/test_core.c: three clusters on the unit axes, two models
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
    CHECK(r.centroid_hash() == r.metadata().at("centroid_hash"));
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

TH_MAIN(T(test_route_hand_computed), T(test_errors), T(test_raii_and_moves),
        T(test_fixture_builder_and_persistence), T(test_route_ex_merge_evaluate),
        T(test_ensemble_members))
