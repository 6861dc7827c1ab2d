/* Tandem — MIT licence. One JSON line -> one Tandem__Event, with line-level error messages. */
#ifndef TANDEM_JSONEV_H
#define TANDEM_JSONEV_H
#endif
