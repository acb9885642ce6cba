// pipeline/cores: the CPUs this process may use are its affinity mask's, and a run without
// --threads takes that many threads (not every core of the machine).
#include <gtest/gtest.h>

#include <sched.h>

#include "pipeline/cores.hpp"
#include "support/cpus.hpp"
#include "support/fixtures.hpp"

namespace aepipe::test {
namespace {

TEST(UsableCores, AreTheAffinityMasksCpus) {
    cpu_set_t mine;
    ASSERT_EQ(sched_getaffinity(0, sizeof mine, &mine), 0);
    EXPECT_EQ(usable_cores(), CPU_COUNT(&mine));
    {
        const OnlyCpus only(1);
        ASSERT_TRUE(only.ok());
        EXPECT_EQ(usable_cores(), 1);
    }
    EXPECT_EQ(usable_cores(), CPU_COUNT(&mine)) << "restored";
}

TEST(UsableCores, ARunLimitedToOneCpuTakesOneThreadByDefault) {
    TempDir tmp;
    const std::string config = write_tiny_config(tmp.path(), write_tiny_data(tmp.path(), 64, 16), 1);
    const OnlyCpus only(1);
    ASSERT_TRUE(only.ok());
    const RunResult r = run_aepipe({"run", config, "train.threads=0", "--out", tmp / "runs"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("(1 threads)"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace aepipe::test
