// What the core carries opaquely and the nodes read back typed: the epoch and eval reports of
// a message (nodes/nn/reports.hpp), the checkpoint of a resumed run (nodes/nn/train_state.hpp),
// and the keys the nodes add to the core's `train` section (pipeline/registry.hpp).
#include <gtest/gtest.h>

#include "nodes/nn/reports.hpp"
#include "nodes/nn/train_state.hpp"
#include "pipeline/graph.hpp"

namespace aepipe {
namespace {

TEST(Reports, AccessorsReturnWhatTheSenderAttached) {
    auto ep = std::make_shared<EpochReport>();
    ep->epoch = 3;
    auto ev = std::make_shared<EvalReport>();
    ev->test_samples = 17;
    EvalMsg m;
    m.report = ep, m.eval = ev;
    EXPECT_EQ(&epoch_report(m), ep.get());
    EXPECT_EQ(epoch_report(m).epoch, 3);
    EXPECT_EQ(eval_report(m).test_samples, 17);
}

TEST(Reports, AMissingOrMistypedReportIsALogicErrorNotACrash) {
    EvalMsg m;
    EXPECT_THROW(epoch_report(m), std::logic_error);
    EXPECT_THROW(eval_report(m), std::logic_error);
    m.report = std::make_shared<EvalReport>();  // the wrong payload on the epoch slot
    m.eval = std::make_shared<EpochReport>();
    EXPECT_THROW(epoch_report(m), std::logic_error);
    EXPECT_THROW(eval_report(m), std::logic_error);
}

TEST(Reports, ResumeFromIsTheCheckpointTheCliAttached) {
    RunSettings s;
    EXPECT_EQ(resume_from(s), nullptr);  // a new run
    auto from = std::make_shared<ResumeFrom>();
    from->path = "run/checkpoints/step-8.ckpt";
    s.resume = from;
    ASSERT_EQ(resume_from(s), from.get());
    EXPECT_EQ(resume_from(s)->path, "run/checkpoints/step-8.ckpt");
}

TEST(Reports, TheTrainSectionHoldsTheKeysTheNodesAdd) {
    const NodeSpec &train = train_section_spec();
    for (const char *core : {"epochs", "batch", "seed", "threads", "in_flight", "max_steps", "shards", "max_memory"})
        EXPECT_NE(train.key(core), nullptr) << core;
    for (const char *added : {"optimizer", "clip_grad_norm"}) EXPECT_NE(train.key(added), nullptr) << added;
    NodeSpec copy = train;
    EXPECT_THROW(SectionKeys(copy, {{"epochs", Kind::Int, "1", "a second epochs"}}), std::logic_error);
    SectionKeys(copy, {{"extra", Kind::Int, "1", "a new key"}});
    EXPECT_NE(copy.key("extra"), nullptr);
}

}  // namespace
}  // namespace aepipe
