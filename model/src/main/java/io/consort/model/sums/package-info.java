/**
 * Statistics as vectors for a secure sum: a bank's feature statistics and evaluation histogram
 * packed into integers so that secure aggregation (which sums vectors in Z_2^32) gives the coordinator
 * the consortium-wide totals and nothing per bank.
 *
 * <p>Written by hand because it must be exact: every value is split into 16-bit limbs, so the sum
 * of up to 2^16 banks' limbs stays below 2^32 and never wraps the ring, and the totals are rebuilt
 * exactly from the limb sums. Signed values are fixed-point with 20 fractional bits in an offset
 * 80-bit range.
 */
package io.consort.model.sums;
