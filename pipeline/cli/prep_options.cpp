// --fit, --invert and --raw: how a picture becomes a model input (formats/image_prep.hpp), one
// set of options for every command that reads PNGs (reconstruct, encode, score), so that a
// folder of already-prepared pictures can be fed as it is wherever pictures are read.
#include "pipeline/cli/cli.hpp"

namespace aepipe::cli {

void add_prep_options(po::options_description &opts) {
    opts.add_options()(
        "fit", po::value<std::string>()->default_value("auto"),
        "auto (MNIST's for 28x28 gray models, else resize), mnist (ink into a 20/28 box, centred by mass) or resize")(
        "invert", po::value<std::string>()->default_value("auto"),
        "auto (dark-on-light pictures, with MNIST's fit), always or never")(
        "raw", "feed each picture as it is, only resized to the model's input: no level cut, crop, centring or "
               "inversion (= --fit resize --invert never)");
}

PrepOptions prep_options(const po::variables_map &vm) {
    const bool raw = vm.count("raw") > 0;
    if (raw)
        for (const char *other : {"fit", "invert"})
            if (!vm[other].defaulted())
                throw po::error(std::string("--raw and --") + other + " exclude each other (--raw is --fit resize "
                                                                      "--invert never)");
    const std::string fit = raw ? "resize" : vm["fit"].as<std::string>();
    const std::string inv = raw ? "never" : vm["invert"].as<std::string>();
    if (fit != "auto" && fit != "mnist" && fit != "resize")
        throw po::error("--fit '" + fit + "': expected auto, mnist or resize");
    if (inv != "auto" && inv != "always" && inv != "never")
        throw po::error("--invert '" + inv + "': expected auto, always or never");
    using Fit = PrepOptions::Fit;
    using Invert = PrepOptions::Invert;
    PrepOptions p;
    p.fit = fit == "mnist" ? Fit::Mnist : fit == "resize" ? Fit::Resize : Fit::Auto;
    p.invert = inv == "always" ? Invert::Always : inv == "never" ? Invert::Never : Invert::Auto;
    return p;
}

}  // namespace aepipe::cli
