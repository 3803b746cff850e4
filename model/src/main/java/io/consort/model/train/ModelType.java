package io.consort.model.train;

/** The model families a federated job can train. */
public enum ModelType {
  /** Dense ReLU hidden layers and one sigmoid output unit. */
  MLP,
  /** One sigmoid output unit on the encoded features, no hidden layer. */
  LOGISTIC_REGRESSION
}
