from test_events import *  # noqa

def test_probe(hooks):
    hooks.subscribe()
    for url in ("https://169.254.169.254/latest/meta-data", "http://10.0.0.1/hooks", "http://[::1]:9/x", "http://localhost:9/x", "http://0.0.0.0/x"):
        r = hooks.patch_workspace({"event_webhook_url": url})
        print("PROBE", url, r.status_code, r.text[:200])
    r = hooks.patch_workspace({"event_webhook_url": "http://169.254.169.254/x"})
    cid = hooks.create_connection()["id"]
    n = pick(hooks.all_notifications(), "CONNECTION_CREATED", cid)
    time.sleep(1.5)
    print("PROBE delivery log", hooks.deliveries(n["id"]), hooks.notification(n["id"]))
