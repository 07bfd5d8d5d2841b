/* Fixahead's Mosquitto 2 plugin: refuse and report devices that reach beyond their own topics.
 *
 * Loaded before the dynamic security plugin. In Mosquitto 2.0 plugin ACL callbacks run in
 * load order and the first answer other than MOSQ_ERR_PLUGIN_DEFER wins, so a plugin after
 * dynsec never learns what it refused; this one applies the device rule itself (defence in
 * depth, the same rule as the device roles fixahead/dynsec.py generates):
 *   a device (a username that could be a device id, [A-Za-z0-9_-]{1,64}, and is not one of the
 *   platform's accounts; accounts with other names, such as the dotted `fixahead.*`, are
 *   left to dynsec) may publish only to
 *   <prefix>/<its username>/{telemetry,events,status,replies} and subscribe to, unsubscribe
 *   from and receive only <prefix>/<its username>/commands.
 * Anything else a device asks for ($share/... subscriptions, other devices' topics) is refused
 * here and counted; everything allowed, and every platform account, is deferred to dynsec.
 *
 * Refusals are reported on <notice_topic> (QoS 1) as one compact JSON object per client:
 *   {"client":"<client id>","username":"<username>","access":"subscribe","topic":"...",
 *    "count":N}
 * The first refusal of a client is reported at once; later ones within `interval_ms` are held
 * and reported together by the tick (count = how many, topic and access of the latest).
 *
 * Options (plugin_opt_*): prefix, services (comma-separated platform usernames), notice_topic,
 * interval_ms (default 1000).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#define MAX_CLIENTS 1024   /* clients tracked at once; the longest idle is reported and dropped */
#define MAX_SERVICES 16
#define NOTICE_MAX 2048
#define IDLE_MS 60000      /* a client with nothing held is forgotten after this long */

struct tracked {
	char *client_id;
	char *username;
	char *topic;           /* the latest refused topic held */
	int access;
	unsigned long held;    /* refusals not reported yet */
	long long sent_ms;     /* when its last notice went out */
	long long seen_ms;     /* its latest refusal */
};

static mosquitto_plugin_id_t *plugin_id;
static char *prefix;
static size_t prefix_len;
static char *services[MAX_SERVICES];
static int service_count;
static char *notice_topic;
static long long interval_ms = 1000;
static struct tracked clients[MAX_CLIENTS];
static int client_count;
static unsigned long long refused_total;

static const char *const PUBLISHED[] = {"telemetry", "events", "status", "replies", NULL};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *access_name(int access)
{
	switch(access){
		case MOSQ_ACL_READ: return "receive";
		case MOSQ_ACL_WRITE: return "publish";
		case MOSQ_ACL_SUBSCRIBE: return "subscribe";
		case MOSQ_ACL_UNSUBSCRIBE: return "unsubscribe";
		default: return "other";
	}
}

static bool is_service(const char *username)
{
	for(int i = 0; i < service_count; i++){
		if(!strcmp(services[i], username)) return true;
	}
	return false;
}

/* Whether `username` could be a device id (devices.topics.DEVICE_ID). */
static bool device_name(const char *username)
{
	size_t n = 0;
	for(const char *p = username; *p; p++, n++){
		char c = *p;
		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
				|| c == '_' || c == '-')) return false;
	}
	return n >= 1 && n <= 64;
}

/* The device rule: whether `username` may do `access` on `topic`. */
static bool device_may(const char *username, const char *topic, int access)
{
	size_t ulen = strlen(username);
	if(strncmp(topic, prefix, prefix_len) || topic[prefix_len] != '/') return false;
	const char *rest = topic + prefix_len + 1;
	if(strncmp(rest, username, ulen) || rest[ulen] != '/') return false;
	const char *channel = rest + ulen + 1;
	if(access == MOSQ_ACL_WRITE){
		for(int i = 0; PUBLISHED[i]; i++){
			if(!strcmp(channel, PUBLISHED[i])) return true;
		}
		return false;
	}
	return !strcmp(channel, "commands");  /* subscribe, unsubscribe, receive */
}

/* Append `s` to `out` as the inside of a JSON string; false when it does not fit. */
static bool json_string(char *out, size_t cap, size_t *len, const char *s)
{
	for(const unsigned char *p = (const unsigned char *)s; *p; p++){
		char buf[8];
		size_t n;
		if(*p == '"' || *p == '\\'){
			buf[0] = '\\'; buf[1] = (char)*p; n = 2;
		}else if(*p < 0x20){
			n = (size_t)snprintf(buf, sizeof(buf), "\\u%04x", *p);
		}else{
			buf[0] = (char)*p; n = 1;
		}
		if(*len + n >= cap) return false;
		memcpy(out + *len, buf, n);
		*len += n;
	}
	out[*len] = '\0';
	return true;
}

static bool json_field(char *out, size_t cap, size_t *len, const char *key, const char *value,
		bool first)
{
	int n = snprintf(out + *len, cap - *len, "%s\"%s\":\"", first ? "{" : ",", key);
	if(n < 0 || *len + (size_t)n >= cap) return false;
	*len += (size_t)n;
	if(!json_string(out, cap, len, value) || *len + 1 >= cap) return false;
	out[(*len)++] = '"';
	out[*len] = '\0';
	return true;
}

static void report(struct tracked *t, long long now)
{
	char notice[NOTICE_MAX];
	size_t len = 0;
	bool ok = json_field(notice, sizeof(notice), &len, "client", t->client_id, true)
		&& json_field(notice, sizeof(notice), &len, "username", t->username, false)
		&& json_field(notice, sizeof(notice), &len, "access", access_name(t->access), false);
	/* a topic too long for the notice is cut: the count still tells how many */
	if(ok && !json_field(notice, sizeof(notice), &len, "topic", t->topic, false)){
		len = strlen(notice);
		char *cut = strstr(notice, ",\"topic\":\"");
		if(cut) len = (size_t)(cut - notice);
		notice[len] = '\0';
		ok = json_field(notice, sizeof(notice), &len, "topic", "(too long)", false);
	}
	if(ok){
		int n = snprintf(notice + len, sizeof(notice) - len, ",\"count\":%lu}", t->held);
		ok = n > 0 && len + (size_t)n < sizeof(notice);
		if(ok) len += (size_t)n;
	}
	if(ok){
		mosquitto_broker_publish_copy(NULL, notice_topic, (int)len, notice, 1, false, NULL);
	}
	t->held = 0;
	t->sent_ms = now;
}

static void forget(int i)
{
	free(clients[i].client_id);
	free(clients[i].username);
	free(clients[i].topic);
	clients[i] = clients[--client_count];
	memset(&clients[client_count], 0, sizeof(clients[client_count]));
}

static struct tracked *track(const char *client_id, const char *username, long long now)
{
	for(int i = 0; i < client_count; i++){
		if(!strcmp(clients[i].client_id, client_id) && !strcmp(clients[i].username, username)){
			return &clients[i];
		}
	}
	if(client_count == MAX_CLIENTS){
		int oldest = 0;
		for(int i = 1; i < client_count; i++){
			if(clients[i].seen_ms < clients[oldest].seen_ms) oldest = i;
		}
		if(clients[oldest].held) report(&clients[oldest], now);
		forget(oldest);
	}
	struct tracked *t = &clients[client_count];
	t->client_id = strdup(client_id);
	t->username = strdup(username);
	if(!t->client_id || !t->username){
		free(t->client_id);
		free(t->username);
		t->client_id = t->username = NULL;
		return NULL;
	}
	t->topic = NULL;
	t->held = 0;
	t->sent_ms = now - interval_ms;  /* the first refusal is reported at once */
	client_count++;
	return t;
}

static void refused(struct mosquitto *client, const char *username, const char *topic,
		int access)
{
	long long now = now_ms();
	const char *client_id = mosquitto_client_id(client);
	struct tracked *t = track(client_id ? client_id : "", username, now);
	refused_total++;
	if(!t) return;
	char *copy = strdup(topic);
	if(copy){
		free(t->topic);
		t->topic = copy;
	}
	t->access = access;
	t->held++;
	t->seen_ms = now;
	if(t->topic && now - t->sent_ms >= interval_ms) report(t, now);
}

static int on_acl_check(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_acl_check *ed = event_data;
	(void)event;
	(void)userdata;
	const char *username = mosquitto_client_username(ed->client);
	if(!username || !ed->topic || is_service(username) || !device_name(username)){
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	if(device_may(username, ed->topic, ed->access)) return MOSQ_ERR_PLUGIN_DEFER;
	refused(ed->client, username, ed->topic, ed->access);
	return MOSQ_ERR_ACL_DENIED;
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	long long now = now_ms();
	for(int i = 0; i < client_count; i++){
		struct tracked *t = &clients[i];
		if(t->held && t->topic && now - t->sent_ms >= interval_ms){
			report(t, now);
		}else if(!t->held && now - t->seen_ms >= IDLE_MS){
			forget(i--);
		}
	}
	return MOSQ_ERR_SUCCESS;
}

static int set_services(const char *value)
{
	char *list = strdup(value);
	if(!list) return MOSQ_ERR_NOMEM;
	for(char *save = NULL, *name = strtok_r(list, ", ", &save); name;
			name = strtok_r(NULL, ", ", &save)){
		if(service_count == MAX_SERVICES){
			free(list);
			mosquitto_log_printf(MOSQ_LOG_ERR, "fixahead_audit: more than %d services",
					MAX_SERVICES);
			return MOSQ_ERR_INVAL;
		}
		services[service_count] = strdup(name);
		if(!services[service_count]){
			free(list);
			return MOSQ_ERR_NOMEM;
		}
		service_count++;
	}
	free(list);
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	plugin_id = identifier;
	for(int i = 0; i < option_count; i++){
		const char *key = options[i].key, *value = options[i].value;
		int rc = MOSQ_ERR_SUCCESS;
		if(!strcmp(key, "prefix")){
			prefix = strdup(value);
		}else if(!strcmp(key, "services")){
			rc = set_services(value);
		}else if(!strcmp(key, "notice_topic")){
			notice_topic = strdup(value);
		}else if(!strcmp(key, "interval_ms")){
			interval_ms = atoll(value);
		}
		if(rc != MOSQ_ERR_SUCCESS) return rc;
	}
	if(!prefix || !*prefix || !notice_topic || !*notice_topic || service_count == 0
			|| interval_ms < 0){
		mosquitto_log_printf(MOSQ_LOG_ERR, "fixahead_audit: plugin_opt_prefix, "
				"plugin_opt_services and plugin_opt_notice_topic are required");
		return MOSQ_ERR_INVAL;
	}
	prefix_len = strlen(prefix);
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "fixahead_audit: devices confined to %s/<id>/..., "
			"refusals reported on %s", prefix, notice_topic);
	int rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, NULL);
	if(rc == MOSQ_ERR_SUCCESS){
		rc = mosquitto_callback_register(plugin_id, MOSQ_EVT_TICK, on_tick, NULL, NULL);
	}
	return rc;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)userdata;
	(void)options;
	(void)option_count;
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
	mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "fixahead_audit: %llu refusal(s) since start",
			refused_total);
	while(client_count) forget(client_count - 1);
	for(int i = 0; i < service_count; i++) free(services[i]);
	service_count = 0;
	free(prefix);
	free(notice_topic);
	prefix = notice_topic = NULL;
	return MOSQ_ERR_SUCCESS;
}
