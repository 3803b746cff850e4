/**
 * Market prediction data: the real price series bundled with ta4j-examples and the windows of
 * returns and volumes that sequence models (and dense ones) learn from.
 */
package io.consort.model.market;
