"""The node agent: registers its Node, runs one worker per pod through the `runtime` package,
serves logs and exec, and hosts the service proxy (kubelet.proxy)."""
