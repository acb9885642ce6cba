// What travels on the flow-graph edges: one message type per port kind, copied by value (a
// few integers and shared handles; no pixel data is ever copied between nodes).
//
//   kind     type         what
//   dataset  DatasetMsg   one per epoch: a dataset handle, and after `shuffle` the epoch's order
//   batch    BatchMsg     a slice of the epoch order (begin, count), no pixels yet
//   tensor   TensorMsg    a batch whose pixels are in a pooled float buffer (x, rows x dim);
//                         after a `corrupt` node x holds the corrupted inputs and target the
//                         clean originals
//   epoch    EpochMsg     end of a training epoch: train statistics and a parameter snapshot
//   eval     EvalMsg      an epoch plus its test-set evaluation
//   credit   Credit       flow control: a step or an epoch is done (edges the builder wires)
//
// The graph builder checks that a port's C++ type is its kind's (PortKind<M>), so a node can
// only be connected to the ports it can read. Pooled buffers own themselves (PooledBuffer):
// the slot returns to its pool when the last message holding it is dropped, wherever that is
// (the training step, a cancelled graph's queues).
#pragma once

#include <oneapi/tbb/flow_graph.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "pipeline/slot_pool.hpp"

namespace aepipe {

struct Dataset;  // formats/idx.hpp: the core carries a handle, never reads it

// What a port kind's nodes define and the core only carries: the epoch and eval reports
// (nodes/nn/reports.hpp). The framework knows no model or loss; a node reads a payload back
// through a typed accessor that checks its type.
struct Payload {
    virtual ~Payload() = default;
};

struct MsgBase {
    int64_t epoch = 0;   // 0-based
    int64_t step = 0;    // global step of a batch (the sequence number for reordering); an
                         // epoch's last step for epoch and eval messages
    double t_ready = -1; // profiling: when this message was emitted (s)
};

struct DatasetMsg : MsgBase {
    const Dataset *data = nullptr;
    std::shared_ptr<const std::vector<int32_t>> order;  // epoch order (null = natural order)
};

struct BatchMsg : DatasetMsg {
    int64_t begin = 0, count = 0;  // slice of the order (this rank's rows)
    int64_t total = 0;  // rows of the whole batch over all ranks (pipeline/dist.hpp); = count with one
    bool last_in_epoch = false;

    int64_t sample(int64_t k) const { return order ? (*order)[size_t(begin + k)] : begin + k; }
};

struct TensorMsg : BatchMsg {
    PooledBuffer x;       // count x dim model inputs
    PooledBuffer target;  // what the loss compares with (count x dim); empty: x itself

    const float *loss_target() const { return target ? target.data() : x.data(); }
};

struct EpochMsg : MsgBase {
    std::shared_ptr<const Payload> report;  // the training epoch (EpochReport)
};

struct EvalMsg : EpochMsg {
    const Dataset *data = nullptr;        // the test set it was evaluated on
    std::shared_ptr<const Payload> eval;  // the test-set evaluation (EvalReport)
};

using Credit = tbb::flow::continue_msg;

// Rows a message stands for, in the profile's items/s.
inline int64_t rows_of(const MsgBase &) { return 1; }
inline int64_t rows_of(const BatchMsg &m) { return m.count > 0 ? m.count : 1; }
inline int64_t step_of(const MsgBase &m) { return m.step; }
inline int64_t step_of(const Credit &) { return -1; }
inline double ready_of(const MsgBase &m) { return m.t_ready; }
inline double ready_of(const Credit &) { return -1; }

// The port kind of each message type: what the builder checks a port against.
template <class M>
struct PortKind;
template <>
struct PortKind<DatasetMsg> {
    static constexpr const char *name = "dataset";
};
template <>
struct PortKind<BatchMsg> {
    static constexpr const char *name = "batch";
};
template <>
struct PortKind<TensorMsg> {
    static constexpr const char *name = "tensor";
};
template <>
struct PortKind<EpochMsg> {
    static constexpr const char *name = "epoch";
};
template <>
struct PortKind<EvalMsg> {
    static constexpr const char *name = "eval";
};
template <>
struct PortKind<Credit> {
    static constexpr const char *name = "credit";
};

}  // namespace aepipe
