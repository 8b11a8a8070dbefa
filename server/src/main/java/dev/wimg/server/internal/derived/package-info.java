/**
 * Derived pictures on disk: needles of a second store, {@code <data>/derived}, linked to their
 * originals by an append-only index ({@link dev.wimg.server.internal.derived.DerivedIndex}, its
 * format in {@link dev.wimg.server.internal.derived.DerivedIndexCodec}), reconciled on start
 * ({@link dev.wimg.server.internal.derived.DerivedStoreLoader}) and kept in agreement by
 * {@link dev.wimg.server.internal.derived.DerivedPictures}. A derived picture is identified by its
 * {@link dev.wimg.server.internal.derived.TransformKey}.
 *
 * <p>May use: nothing of the server; only the storage API and the protocol (and the imaging API,
 * for the key of a transform). It knows neither HTTP nor how a picture is computed.
 */
package dev.wimg.server.internal.derived;
