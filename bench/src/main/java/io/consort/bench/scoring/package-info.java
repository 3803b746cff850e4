/** Speed of scoring at a bank: the scorer and its network against PyTorch inference of the same network. */
package io.consort.bench.scoring;
