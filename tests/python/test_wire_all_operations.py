"""Every operation of the eight models, called with boto3 on a fresh server.

Each call must end in a modelled response, a modelled error, or the explicit 501
NotImplementedException; never an unknown-route 404, a 500 or a dropped connection.
"""
import botocore.exceptions
import pytest

from wire_samples import all_operations, minimal_params, service_model, SERVICES

OPERATIONS = list(all_operations())


def test_the_models_have_146_operations():
    assert len(OPERATIONS) == 146


# The validation error each service answers for input that breaks the model.
VALIDATION_CODES = {
    "mediapackage-vod": "UnprocessableEntityException",
    "ivs": "ValidationException",
    "ivs-realtime": "ValidationException",
    "kinesisvideo": "InvalidArgumentException",
    "kinesis-video-media": "InvalidArgumentException",
    "kinesis-video-archived-media": "InvalidArgumentException",
    "kinesis-video-signaling": "InvalidArgumentException",
    "kinesis-video-webrtc-storage": "InvalidArgumentException",
}


def modelled_error_codes(model, op_name):
    op = model.operation_model(op_name)
    codes = {e.metadata.get("error", {}).get("code", e.name) for e in op.error_shapes}
    return codes | {VALIDATION_CODES[model.service_name]}


@pytest.fixture(scope="module")
def outcomes(server):
    """Call every operation once; map (service, op) -> ("ok", status) or ("error", code, status)."""
    results = {}
    for svc in SERVICES:
        model = service_model(svc)
        client = server.client(svc)
        for op_name in model.operation_names:
            params = minimal_params(model, op_name)
            method = getattr(client, client.meta.method_to_api_mapping and _py_name(client, op_name))
            try:
                resp = method(**params)
                if "Payload" in resp and hasattr(resp["Payload"], "read"):
                    resp["Payload"].read()
                results[(svc, op_name)] = ("ok", resp["ResponseMetadata"]["HTTPStatusCode"])
            except botocore.exceptions.ClientError as e:
                message = e.response["Error"].get("Message") or e.response.get("exceptionMessage", "")
                results[(svc, op_name)] = (
                    "error",
                    e.response["Error"]["Code"],
                    e.response["ResponseMetadata"]["HTTPStatusCode"],
                    message,
                )
    return results


def _py_name(client, op_name):
    for py, api in client.meta.method_to_api_mapping.items():
        if api == op_name:
            return py
    raise KeyError(op_name)


@pytest.mark.parametrize("svc,op_name", OPERATIONS, ids=[f"{s}.{o}" for s, o in OPERATIONS])
def test_operation_is_routed_and_answers_as_modelled(outcomes, svc, op_name):
    outcome = outcomes[(svc, op_name)]
    model = service_model(svc)
    if outcome[0] == "ok":
        expected = model.operation_model(op_name).http.get("responseCode", 200)
        assert outcome[1] == expected
        return
    _, code, status, _message = outcome
    assert code != "UnknownOperationException", "operation is not routed"
    assert status != 500, f"internal error: {code}"
    if code == "NotImplementedException":
        assert status == 501
        return
    assert code in modelled_error_codes(model, op_name), f"{code} ({status}) is not a modelled error of {op_name}"


def test_minimal_inputs_pass_model_validation(outcomes):
    # The minimal inputs are well-formed by construction, so none may be refused by the model
    # validation layer, whose messages read "N validation error(s) detected: ...": that would
    # mean reelay's validation is wrong. (Handlers may still refuse them on semantic grounds,
    # e.g. an ARN of a resource that doesn't exist, with the same error code.)
    bad = {
        k: v
        for k, v in outcomes.items()
        if v[0] == "error" and v[1] in ("SerializationException", VALIDATION_CODES[k[0]]) and "validation error" in v[3]
        and "detected" in v[3]
    }
    assert not bad, bad
