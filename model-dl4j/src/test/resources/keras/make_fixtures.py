#!/usr/bin/python3
"""Writes the Keras HDF5 fixtures of KerasImportTest, in the Keras 2 layout, with h5py only.

There is no TensorFlow here: the files are written attribute by attribute as Keras 2.x saves a
Sequential model with model.save("x.h5"): root attributes keras_version, backend, model_config
(JSON) and training_config (JSON, Adam with lr, beta_1, beta_2, epsilon, decay); group
model_weights with layer_names, and per layer weight_names and the kernel:0 / bias:0 datasets.

Run with Debian's Python (apt-get install python3-h5py):
    /usr/bin/python3 make_fixtures.py
Weights are seeded Glorot-uniform draws, so the files are reproducible.
"""
import json

import h5py
import numpy as np


def dense(name, units, activation, input_shape=None):
    config = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
              "use_bias": True,
              "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
              "bias_initializer": {"class_name": "Zeros", "config": {}},
              "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
              "kernel_constraint": None, "bias_constraint": None}
    if input_shape is not None:
        config["batch_input_shape"] = [None] + list(input_shape)
    return {"class_name": "Dense", "config": config}


def batch_norm(name):
    return {"class_name": "BatchNormalization", "config": {
        "name": name, "trainable": True, "dtype": "float32", "axis": -1, "momentum": 0.99, "epsilon": 0.001,
        "center": True, "scale": True,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None}}


def write(path, layers, weights):
    """layers: Keras layer configs; weights: per layer, a list of (weight name, array)."""
    model_config = {"class_name": "Sequential", "config": {"name": "loan_risk", "layers": layers}}
    training_config = {"loss": "binary_crossentropy", "metrics": ["accuracy"], "sample_weight_mode": None,
                       "loss_weights": None,
                       "optimizer_config": {"class_name": "Adam", "config": {
                           "lr": 0.003, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "decay": 0.0,
                           "amsgrad": False}}}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_("2.2.4")
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(model_config))
        f.attrs["training_config"] = np.bytes_(json.dumps(training_config))
        group = f.create_group("model_weights")
        names = [layer["config"]["name"] for layer in layers]
        group.attrs["layer_names"] = np.array([np.bytes_(n) for n in names])
        group.attrs["backend"] = np.bytes_("tensorflow")
        group.attrs["keras_version"] = np.bytes_("2.2.4")
        for name, layer_weights in zip(names, weights):
            g = group.create_group(name)
            g.attrs["weight_names"] = np.array([np.bytes_(name + "/" + w) for w, _ in layer_weights])
            inner = g.create_group(name)
            for w, array in layer_weights:
                inner.create_dataset(w, data=array.astype(np.float32))


def glorot(rng, n_in, n_out):
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def main():
    rng = np.random.default_rng(20261202)
    sizes = [23, 64, 32, 1]
    activations = ["relu", "relu", "sigmoid"]
    layers, weights = [], []
    for i in range(3):
        name = "dense_%d" % (i + 1)
        layers.append(dense(name, sizes[i + 1], activations[i], [sizes[0]] if i == 0 else None))
        weights.append([("kernel:0", glorot(rng, sizes[i], sizes[i + 1])),
                        ("bias:0", rng.normal(0, 0.05, size=sizes[i + 1]))])
    write("loan_risk_23_64_32_1.h5", layers, weights)

    # the same network with a BatchNormalization layer, which DP-SGD cannot clip per example
    bn_layers = [layers[0], batch_norm("batch_normalization_1"), layers[1], layers[2]]
    bn_weights = [weights[0], [("gamma:0", np.ones(64)), ("beta:0", np.zeros(64)),
                               ("moving_mean:0", np.zeros(64)), ("moving_variance:0", np.ones(64))],
                  weights[1], weights[2]]
    write("loan_risk_with_batch_norm.h5", bn_layers, bn_weights)


if __name__ == "__main__":
    main()
