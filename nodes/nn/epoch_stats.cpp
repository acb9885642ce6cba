#include "nodes/nn/epoch_stats.hpp"

namespace aepipe {

void EpochStats::begin_step(int64_t step) {
    step_start_ = clk::now();
    if (step == p_.first_step_of_epoch) epoch_start_ = step_start_;
}

double EpochStats::end_step(const StepSums &s, int64_t samples) {
    p_.loss_sum += s.loss, p_.recon_sum += s.recon, p_.kl_sum += s.kl;
    p_.samples += samples;
    ++p_.steps;
    const double d = std::chrono::duration<double>(clk::now() - step_start_).count();
    (started_ ? busy_s_ : startup_s_) += d;
    (started_ ? busy_samples_ : startup_samples_) += samples;
    started_ = true;
    return d;
}

double EpochStats::samples_per_s() const {
    return busy_samples_ ? double(busy_samples_) / busy_s_ : startup_s_ > 0 ? double(startup_samples_) / startup_s_ : 0.0;
}

std::shared_ptr<EpochReport> EpochStats::end_epoch(int64_t epoch, int64_t last_step) {
    auto r = std::make_shared<EpochReport>();
    const double n = double(p_.samples);
    r->epoch = epoch;
    r->steps = p_.steps;
    r->samples = p_.samples;
    r->train_loss = p_.samples ? p_.loss_sum / n : 0.0;
    r->train_recon = p_.samples ? p_.recon_sum / n : 0.0;
    r->train_kl = p_.samples ? p_.kl_sum / n : 0.0;
    r->seconds = std::chrono::duration<double>(clk::now() - epoch_start_).count();
    r->samples_per_s = samples_per_s();
    busy_s_ = startup_s_ = 0, busy_samples_ = startup_samples_ = 0;
    ++p_.epochs_done;
    p_.loss_sum = p_.recon_sum = p_.kl_sum = 0, p_.samples = 0;
    p_.first_step_of_epoch = last_step + 1;
    return r;
}

}  // namespace aepipe
