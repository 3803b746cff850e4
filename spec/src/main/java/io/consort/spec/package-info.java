/**
 * The job specification: what a federated job is, parsed and validated once.
 *
 * <p>A {@link io.consort.spec.JobSpec} is the only form in which the coordinator and the banks
 * reason about a job. It is immutable, every field is checked when it is built (an invalid value
 * raises {@link io.consort.spec.InvalidJobSpecException} naming the field), and every default lives
 * in {@link io.consort.spec.JobSpecBuilder}: nothing downstream substitutes a value of its own.
 * {@link io.consort.spec.JobSpecWire} maps it to and from the wire's {@code consort.v1.JobPlan} at
 * the transport edge; that mapping is strict (no defaults), so a plan that arrives from the network
 * is either exactly a valid specification or refused.
 */
package io.consort.spec;
