/**
 * Loading a bank's own data against a declared {@link io.consort.model.data.DataSchema}, with
 * errors that name file, line, column and value; splitting data among simulated banks; the
 * bundled German credit data set; a synthetic loan-data generator for scale tests.
 */
package io.consort.model.data;
