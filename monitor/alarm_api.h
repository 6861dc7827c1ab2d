/* Tandem — MIT licence. The alarm routes: alarms, ack/resolve, silences, maintenance, rules, stats. */
#ifndef TANDEM_MONITOR_ALARM_API_H
#define TANDEM_MONITOR_ALARM_API_H

struct alarm_engine;
struct api;

/*
 * Adds the alarm routes to a (before http_new). Mutating routes carry HTTP_ROUTE_AUTH: a
 * wrong or missing bearer token gets 401 before the handler runs. e is borrowed and must
 * outlive the server. 0, or -1 when the route table is full.
 *
 *   GET    /api/v1/alarms[?state=pending|firing|acknowledged|resolved|inactive|open]
 *   GET    /api/v1/alarms/stats                failing services, mean time to ack / resolve
 *   GET    /api/v1/alarms/notifications[?limit=N]   the notification log, newest first
 *   GET    /api/v1/alarms/{id}                 one alarm with its full history and notices
 *   POST   /api/v1/alarms/{id}/ack             {"who","comment"[,"expires_ms"]}      token
 *   POST   /api/v1/alarms/{id}/resolve         {"who"[,"comment"]}                   token
 *   GET    /api/v1/silences
 *   POST   /api/v1/silences                    {"rule","app","created_by","comment",
 *                                               "ends_ms"|"duration"[,"starts_ms"]}  token
 *   DELETE /api/v1/silences/{id}?who=NAME                                           token
 *   POST   /api/v1/maintenance                 a silence on every rule and app       token
 *   GET    /api/v1/rules                       rules (config and API) and receivers
 *   POST   /api/v1/rules                       {"name","spec","created_by"}          token
 *   DELETE /api/v1/rules/{name}?who=NAME       API rules only                       token
 */
int	alarm_api_init(struct api *a, struct alarm_engine *e);

#endif
