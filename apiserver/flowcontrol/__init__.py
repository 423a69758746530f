"""API Priority and Fairness: FlowSchemas and PriorityLevelConfigurations, acted on.

- `classify`: which FlowSchema a request matches (pure).
- `queueing`: a priority level's seats and fair queues (pure, with a Clock).
- `borrowing`: seats lent and borrowed between levels, the periodic limit adjustment (pure).
- `width`: how many seats a request takes, kube's work estimator (pure).
- `metrics`: `apiserver_flowcontrol_*` on /metrics, read at scrape time.
- `config`: the configuration built from a watch of both kinds, and the decision cache.
- `gate`: the async shell `ApiServerApp` calls: seats, 429s, response headers, Dangling status.
- `bootstrap`: the mandatory and suggested objects every server keeps.
"""
