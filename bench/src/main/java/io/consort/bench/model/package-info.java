/** Speed of local training: Consort's trainer and DP-SGD against DL4J baselines in the same run. */
package io.consort.bench.model;
