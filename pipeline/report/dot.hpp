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

#include <initializer_list>
#include <string>

namespace aepipe {

class Pipeline;

std::string pipeline_dot(const Pipeline &p);

// "mnist_vae: in 784 | dense 400 relu | dense 40 | sample 20 | dense 400 relu | dense 784, loss bce,
// adam lr 0.001, batch 128, 10 epochs" from a config's root: every layer with its output shape
// ("conv 8 3x3 s2 p1 relu -> 14x14x8", "reshape 7x7x16"); the input shape is the model's output
// shape, as an autoencoder reconstructs its input ("?" where the config alone cannot tell).
std::string model_summary(const YAML::Node &root);

// root[path[0]][path[1]]... of a config, or an undefined node when a step is missing or not a
// map (yaml-cpp throws on indexing a missing key's result; a run folder's config may lack keys).
YAML::Node config_at(const YAML::Node &root, std::initializer_list<const char *> path);

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
