"""Telephony backends, one subpackage each (sim/, later sip/).

A backend turns real or simulated calls into `flowengine.telephony.Call`
objects and hands them to `Engine.start_call`.
"""
