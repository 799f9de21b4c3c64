/**
 * V8 grows its heap less eagerly (--optimize-for-size). A count of a million accounts makes short-
 * lived objects by the million, and with V8's defaults the heap and the memory freed but not yet
 * returned came to 290–316 MB at the peak of the first read of internal storage at 1 M (issue 14,
 * row 6); with this, 227–249 MB for about 1 s more CPU of 23 s. Unlike --max-old-space-size it
 * caps nothing: a larger server still counts. Imported first by each entry point, before the
 * count's modules load.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
