/* Runs fixahead/broker_audit/fixahead_audit.c outside Mosquitto: the broker functions it
 * calls are stubs here, its callbacks are driven through the harness_* functions, and what it
 * publishes is kept for the test to read. Built and loaded by tests/support/audit_plugin.py. */
#include <stdarg.h>
#include "fixahead_audit.c"

struct mosquitto {
	const char *id;
	const char *username;
};

static char published[65536];
static size_t published_len;

const char *mosquitto_client_id(const struct mosquitto *client) { return client->id; }
const char *mosquitto_client_username(const struct mosquitto *client) { return client->username; }

int mosquitto_broker_publish_copy(const char *clientid, const char *topic, int payloadlen,
		const void *payload, int qos, bool retain, mosquitto_property *properties)
{
	(void)clientid; (void)retain; (void)properties;
	int n = snprintf(published + published_len, sizeof(published) - published_len,
			"%s %d %.*s\n", topic, qos, payloadlen, (const char *)payload);
	if(n > 0 && published_len + (size_t)n < sizeof(published)) published_len += (size_t)n;
	return MOSQ_ERR_SUCCESS;
}

void mosquitto_log_printf(int level, const char *fmt, ...) { (void)level; (void)fmt; }

int mosquitto_callback_register(mosquitto_plugin_id_t *identifier, int event,
		MOSQ_FUNC_generic_callback cb_func, const void *event_data, void *userdata)
{
	(void)identifier; (void)event; (void)cb_func; (void)event_data; (void)userdata;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_callback_unregister(mosquitto_plugin_id_t *identifier, int event,
		MOSQ_FUNC_generic_callback cb_func, const void *event_data)
{
	(void)identifier; (void)event; (void)cb_func; (void)event_data;
	return MOSQ_ERR_SUCCESS;
}

int harness_init(const char *prefix_, const char *services_, const char *notice,
		const char *interval)
{
	struct mosquitto_opt opts[] = {{"prefix", (char *)prefix_}, {"services", (char *)services_},
		{"notice_topic", (char *)notice}, {"interval_ms", (char *)interval}};
	return mosquitto_plugin_init(NULL, NULL, opts, 4);
}

int harness_check(const char *client_id, const char *username, const char *topic, int access)
{
	struct mosquitto client = {client_id, username};
	struct mosquitto_evt_acl_check ed;
	memset(&ed, 0, sizeof(ed));
	ed.client = &client;
	ed.topic = topic;
	ed.access = access;
	return on_acl_check(MOSQ_EVT_ACL_CHECK, &ed, NULL);
}

void harness_tick(void) { on_tick(MOSQ_EVT_TICK, NULL, NULL); }

const char *harness_published(void) { return published; }

void harness_clear(void) { published_len = 0; published[0] = '\0'; }

int harness_cleanup(void) { return mosquitto_plugin_cleanup(NULL, NULL, 0); }
