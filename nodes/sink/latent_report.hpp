// The run report's picture of the latent space: at the end of a run, the codes of the run's test
// set (the checkpoint's model card names it) drawn by pipeline/report/latent_plot.hpp into
// RUN/latent.svg, with its caption in RUN/latent.txt; report.html shows them (latent_section).
#pragma once

#include <string>

namespace aepipe {

// Returns what it did, for the console: "" when the run has no final model.safetensors, no test
// set, or a model without a code layer (nothing is written then). I/O errors throw.
std::string write_run_latent(const std::string &run_dir);

}  // namespace aepipe
