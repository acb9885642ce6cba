// The flow graph as a picture: Graphviz DOT text from a validated Pipeline, and rendering it
// to SVG with Graphviz's `dot` program when that is installed.
//
//   nodes: "id\ntype\nkey: value" for every key given in the config (paths shown by file name);
//          data nodes blue rounded boxes, compute nodes orange 3-D boxes, sinks green notes
//   edges: the message kind they carry (dataset, batch, tensor, epoch, eval), plus the port
//          names on the side of a node with several ports ("-> model")
//   title: the model and training summary (model_summary)
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace aepipe {

class Pipeline;

std::string pipeline_dot(const Pipeline &p);

// "mnist_ae: 784-256-128-64-128-256-784, loss mse, adam lr 0.001, batch 50, 20 epochs" from a
// config's root (the input width of an autoencoder is its last layer's width).
std::string model_summary(const YAML::Node &root);

// Full path of `name` on $PATH, or "" when it is not there.
std::string find_program(const std::string &name);
// How to get Graphviz, for messages.
extern const char *const kGraphvizHint;
// Runs `dot -Tsvg` on dot_path into svg_path (atomically). RuntimeError when `dot` is not on
// $PATH (with kGraphvizHint) or fails.
void render_dot_svg(const std::string &dot_path, const std::string &svg_path);
// Writes DIR/graph.dot, and DIR/graph.svg when `dot` is installed; returns whether the SVG exists.
bool write_graph_files(const std::string &dot_text, const std::string &dir);

}  // namespace aepipe
