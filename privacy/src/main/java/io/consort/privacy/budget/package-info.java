/** Per-bank privacy budgets, the local veto a bank applies to a proposed round, and job-level previews. */
package io.consort.privacy.budget;
