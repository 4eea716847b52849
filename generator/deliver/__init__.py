"""Delivery of rendered output to platforms that are not Kubernetes objects: the Ververica Platform
AppManager's REST resources (:mod:`.vvp_api`, :mod:`.vvp_apply`, used by ``gen vvp apply``)."""
