/**
 * The participant daemon a bank runs on its own premises, next to its private data. It only dials
 * out: it enrols with the coordinator over mutual TLS, long-polls for tasks, runs them on worker
 * threads (data loading, local training, evaluation on its own held-out split) and pushes back
 * only what the task asks for: aggregates, updates and decisions, never rows.
 */
package io.consort.participant;
