#include <gtest/gtest.h>

#include "pipeline/registry.hpp"

TEST(Smoke, Registered) { EXPECT_NE(aepipe::find_spec("dense"), nullptr); }
