"""Redaction by name, by value shape and by provenance, over a corpus: zero leaks.

Every secret of the corpus goes through every way a value leaves the healer (a drift difference,
a change set detail, the result and its checkpointed JSON, the email, a log line) and must appear
in none of them, neither whole nor as any 8-character part of it. Every benign value must come out
unchanged. Secret-shaped literals are assembled at run time so that this file itself trips no
secret scanner.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import random
import string
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift_healer.models import DriftedResource, HealResult, Outcome, PropertyDifference
from drift_healer.provenance import ALL, SecretPaths, no_echo_parameters, secret_paths
from drift_healer.redact import (
    REDACTED,
    RedactingFilter,
    Redactor,
    ResourceRef,
    Verdict,
    change_path,
    drift_path,
    is_sensitive,
    looks_secret,
    name_verdict,
    redact,
    redact_text,
)
from drift_healer.render import render

# --------------------------------------------------------------------------- synthetic secrets
# Assembled from parts: no literal in this file has a real token's full shape.
AKIA = "AK" + "IA" + "QX7RZ2M4KD9WPL3T"
SECRET_ACCESS_KEY = "tR7q" + "Vb2Lm9XkP4sZ8wN1cY6hJ3fG5dA0eU/+KoIiQpRs"[:36]
GITHUB = "gh" + "p_" + "Zk3Qm8Rt2Vx7Lp4Nw9Bc6Hd1Fg5Js0Ya8Ue"
SLACK = "xo" + "xb-" + "2718281828-3141592653-Qw8Er7Ty6Ui5Op4As3Df2Gh"
STRIPE = "sk" + "_live_" + "51HxQmZ8kLw2Rt9Vb4Np7Yc3Md"
OPENAI = "sk" + "-proj-" + "Tq9Wm2Rk7Lp4Xv8Zc1Bn6Hd3Fs5Gj0Ka"
SLACK_HOOK = "https://hooks.slack" + ".com/services/T0ABCD1EF/B0GHIJ2KL/Xy8Zq7Wv6Ut5Sr4Qp3On2Ml"
JWT = (
    "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJhcHAtc2VydmljZSIsImlhdCI6MTcwMDAwMDAwMH0"
    ".Hk3Lq9Wz2Rt8Vm4Xp7Nc1Bd6Fg5Js0Ya"
)
PEM_BODY = (
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n"
    "LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo"
)
PEM = (
    "-----BEGIN "
    + "RSA PRIVATE"
    + " KEY-----\n"
    + PEM_BODY
    + "\n-----END "
    + "RSA PRIVATE KEY-----"
)
PEM_TRUNCATED = "-----BEGIN " + "PRIVATE" + " KEY-----\\n" + PEM_BODY.replace("\n", "\\n")
RANDOM_B64 = "q8ZvT3xLw9Kd2Rm7Bn4Yc6Hf1Js5Pa0Ue8Gt3Wx"
RANDOM_B64URL = "Vq3-Lx9_Tk2Rw7-Mz4Nb8_Pc1Hd6Fs5"
HEX_KEY = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
BASIC = base64.b64encode(b"svc-deploy:Wint3r!sComing").decode()


@dataclass(frozen=True)
class Case:
    """One value as a drift report or a change set gives it, and the secrets inside it."""

    what: str
    path: str
    value: str
    secrets: tuple[str, ...]
    resource: ResourceRef = field(
        default_factory=lambda: ResourceRef("Function", "app-Function-AbCdEf123456")
    )
    provenance: SecretPaths = field(default_factory=SecretPaths)


def _env(**variables: str) -> str:
    return json.dumps({"Variables": variables})


TAGS_DOC = {"Tags": [{"Key": "team", "Value": "payments"}, {"Key": "api-token", "Value": "x"}]}
ECS_DOC = {
    "ContainerDefinitions": [
        {
            "Name": "web",
            "Environment": [
                {"Name": "LOG_LEVEL", "Value": "info"},
                {"Name": "REGION", "Value": "eu-west-1"},
                {"Name": "API_KEY", "Value": "x"},
            ],
        }
    ]
}
TEMPLATE = {
    "Parameters": {
        "DbPass": {"Type": "String", "NoEcho": True},
        "Stage": {"Type": "String"},
    },
    "Resources": {
        "Function": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Environment": {
                    "Variables": {
                        "SETTING_A": {"Ref": "DbPass"},
                        "SETTING_B": {"Fn::Sub": "mysql://app:${DbPass}@db:3306/app"},
                        "SETTING_C": "{{resolve:secretsmanager:prod/app:SecretString:k}}",
                        "STAGE": {"Ref": "Stage"},
                    }
                },
                "Tags": [{"Key": "owner", "Value": {"Ref": "DbPass"}}],
            },
        },
        "Cluster": {
            "Type": "AWS::RDS::DBCluster",
            "Properties": {
                "MasterUsername": "admin",
                "MasterUserPassword": "{{resolve:ssm-secure:/prod/db/master:1}}",
            },
        },
    },
}
PROVENANCE = secret_paths(TEMPLATE)

SECRETS: list[Case] = [
    # ---- by name: resources whose name says secret, properties whose name says secret
    Case(
        "SSM parameter named like a password",
        "/Value",
        "correct-horse-battery-staple",
        ("correct-horse-battery-staple",),
        ResourceRef("DbPassword", "/app/db-password", "AWS::SSM::Parameter"),
    ),
    Case(
        "SSM parameter, secret name only in the physical id",
        "/Value",
        "plain words only",
        ("plain words only",),
        ResourceRef("PaymentsParam", "/prod/payments/stripe-api-key", "AWS::SSM::Parameter"),
    ),
    Case(
        "SSM parameter, abbreviation",
        "/Value",
        "tiger-lily-7",
        ("tiger-lily-7",),
        ResourceRef("ReportingDbPwd", "/prod/reporting/pwd", "AWS::SSM::Parameter"),
    ),
    Case(
        "API Gateway API key value (by type)",
        "/Value",
        "partnerkeyvaluealpha",
        ("partnerkeyvaluealpha",),
        ResourceRef("PartnerAccess", "n7x2k4p9q1", "AWS::ApiGateway::ApiKey"),
    ),
    Case(
        "Secrets Manager secret string (JSON)",
        "/SecretString",
        json.dumps({"username": "admin", "password": "Sup3rS3cret!value"}),
        ("Sup3rS3cret!value",),
        ResourceRef("AppSecret", None, "AWS::SecretsManager::Secret"),
    ),
    Case(
        "RDS master password",
        "/MasterUserPassword",
        "Pa55word!Pa55word",
        ("Pa55word!Pa55word",),
        ResourceRef("Database", "prod-db", "AWS::RDS::DBInstance"),
    ),
    Case(
        "ElastiCache auth token",
        "/AuthToken",
        "elasticacheauthtokenvalue",
        ("elasticacheauthtokenvalue",),
        ResourceRef("Cache", "prod-cache", "AWS::ElastiCache::ReplicationGroup"),
    ),
    Case(
        "DMS endpoint password, lowercase run-together name",
        "/dbpassword",
        "lowercase-secret-value",
        ("lowercase-secret-value",),
    ),
    Case(
        "CodeBuild source credential",
        "/Token",
        "buildtokenvaluealpha",
        ("buildtokenvaluealpha",),
        ResourceRef("SourceCredential", None, "AWS::CodeBuild::SourceCredential"),
    ),
    Case(
        "Amplify basic auth config (JSON)",
        "/BasicAuthConfig",
        json.dumps({"EnableBasicAuth": True, "Username": "reviewer", "Password": "amplifypass99"}),
        ("amplifypass99",),
    ),
    Case(
        "Lambda environment variable (drift path)",
        "/Environment/Variables/DB_PASSWORD",
        "hunter2hunter2",
        ("hunter2hunter2",),
    ),
    Case(
        "Lambda environment, whole (change set value)",
        "/Environment",
        _env(
            DB_PASS="dbpassvalue1",
            API_KEY="apikeyvalue2",
            STRIPE_SECRET_KEY="stripekeyvalue3",
            PRIVKEY="privkeyvalue4",
            APP_CREDS="credsvalue5",
            SESSION_TOKEN="sessiontoken6",
            CONNSTR="connstrvalue7",
            SENTRY_DSN="sentrydsnvalue8",
            X_API_KEY="xapikeyvalue9",
            LOG_LEVEL="info",
        ),
        (
            "dbpassvalue1",
            "apikeyvalue2",
            "stripekeyvalue3",
            "privkeyvalue4",
            "credsvalue5",
            "sessiontoken6",
            "connstrvalue7",
            "sentrydsnvalue8",
            "xapikeyvalue9",
        ),
    ),
    Case(
        "Lambda environment holding JSON credentials",
        "/Environment/Variables/SERVICE_CONFIG",
        json.dumps({"endpoint": "https://api.example.com", "clientSecret": "nestedclientsecret"}),
        ("nestedclientsecret",),
    ),
    Case(
        "tag value whose key says secret (drift: only the value, key in the documents)",
        "/Tags/1/Value",
        "tagsecretvalue",
        ("tagsecretvalue",),
        ResourceRef("Bucket", "app-bucket", "AWS::S3::Bucket", (TAGS_DOC,)),
    ),
    Case(
        "tag added, whole tag as JSON (drift ADD)",
        "/Tags/2",
        json.dumps({"Key": "db-password", "Value": "addedtagsecret"}),
        ("addedtagsecret",),
    ),
    Case(
        "tags, whole list (change set)",
        "/Tags",
        json.dumps(
            [
                {"Key": "team", "Value": "payments"},
                {"Key": "GITHUB_TOKEN", "Value": "tagtokenvalue"},
                {"Key": "auth", "Value": "tagauthvalue1"},
            ]
        ),
        ("tagtokenvalue", "tagauthvalue1"),
    ),
    Case(
        "ECS environment entry (drift: name in the sibling Name field)",
        "/ContainerDefinitions/0/Environment/2/Value",
        "ecsapikeyvalue",
        ("ecsapikeyvalue",),
        ResourceRef("TaskDef", None, "AWS::ECS::TaskDefinition", (ECS_DOC,)),
    ),
    Case(
        "ECS environment entry added (drift ADD, the whole entry as JSON)",
        "/ContainerDefinitions/0/Environment/2",
        json.dumps({"Name": "API_KEY", "Value": "addedecsapikey"}),
        ("addedecsapikey",),
    ),
    Case(
        "ECS container definitions, whole (change set)",
        "/ContainerDefinitions",
        json.dumps(
            [
                {
                    "Name": "web",
                    "Image": "nginx:1.27",
                    "Environment": [
                        {"Name": "LOG_LEVEL", "Value": "info"},
                        {"Name": "DB_PASSWORD", "Value": "ecsdbpassword"},
                    ],
                    "Secrets": [{"Name": "TOKEN", "ValueFrom": "arn:aws:ssm:eu-west-1:1:x"}],
                }
            ]
        ),
        ("ecsdbpassword",),
    ),
    Case(
        "EventBridge connection auth parameters",
        "/AuthParameters",
        json.dumps(
            {
                "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "ebapikeyval"},
                "BasicAuthParameters": {"Username": "u", "Password": "ebbasicpass"},
                "OAuthParameters": {
                    "ClientParameters": {"ClientID": "client-1", "ClientSecret": "ebclientsec"},
                    "AuthorizationEndpoint": "https://auth.example.com/token",
                    "HttpMethod": "POST",
                },
            }
        ),
        ("ebapikeyval", "ebbasicpass", "ebclientsec"),
    ),
    Case(
        "HTTP header parameter Authorization (Key/Value pair)",
        "/AuthParameters/InvocationHttpParameters/HeaderParameters",
        json.dumps(
            [{"Key": "Authorization", "Value": "Bearer opaquebearervalue", "IsValueSecret": True}]
        ),
        ("opaquebearervalue",),
    ),
    Case(
        "API Gateway integration header mapping with a literal credential",
        "/Integration/RequestParameters",
        json.dumps({"integration.request.header.Authorization": "'Basic " + BASIC + "'"}),
        (BASIC,),
    ),
    Case("Authorization property, bearer", "/Authorization", "Bearer abc123def456",
         ("abc123def456",)),
    Case("cookie property", "/Cookie", "sid=8f2k4m9q1x7z", ("8f2k4m9q1x7z",)),
    # ---- by value shape, under names that say nothing
    Case("URL with credentials", "/Environment/Variables/DATABASE_URL",
         "postgres://app:Pg5ecretW0rd@db.internal:5432/app", ("Pg5ecretW0rd",)),
    Case("redis URL, password only", "/Description",
         "redis://:R3disPassw0rd@cache.internal:6379/0", ("R3disPassw0rd",)),
    Case("URL without a scheme", "/Environment/Variables/DB_TARGET",
         "admin:Sch3melessPw@db.example.com", ("Sch3melessPw",)),
    Case("connection string Password=", "/Environment/Variables/SQL",
         "Server=tcp:db,1433;Database=app;User Id=sa;Password=C0nnStr!ngPw;", ("C0nnStr!ngPw",)),
    Case("connection string pwd=", "/Environment/Variables/ODBC",
         "Driver={ODBC};Server=db;uid=sa;pwd=0dbcPwdValue;", ("0dbcPwdValue",)),
    Case("query string token", "/Environment/Variables/CALLBACK",
         "https://api.example.com/hook?access_token=qu3rytok3nvalue&x=1", ("qu3rytok3nvalue",)),
    Case("AWS access key id", "/Environment/Variables/AWS_ACCESS_KEY_ID", AKIA, (AKIA,)),
    Case("AWS secret access key", "/Environment/Variables/UPSTREAM", SECRET_ACCESS_KEY,
         (SECRET_ACCESS_KEY,)),
    Case("PEM private key", "/Description", PEM,
         (PEM_BODY.split("\n")[0], PEM_BODY.split("\n")[2])),
    Case("PEM private key, JSON-escaped and truncated", "/Environment/Variables/TLS",
         PEM_TRUNCATED, (PEM_BODY.split("\n")[1],)),
    Case("JWT", "/Environment/Variables/UPSTREAM_HEADER", JWT, (JWT,)),
    Case("Bearer in free form", "/Environment/Variables/HEADER", "Bearer " + RANDOM_B64,
         (RANDOM_B64,)),
    Case("GitHub token", "/Environment/Variables/GH", GITHUB, (GITHUB,)),
    Case("Slack token", "/Environment/Variables/SLACK", SLACK, (SLACK,)),
    Case("Slack webhook", "/Environment/Variables/SLACK_WEBHOOK_URL", SLACK_HOOK,
         ("Xy8Zq7Wv6Ut5Sr4Qp3On2Ml",)),
    Case("Stripe secret key", "/Environment/Variables/PAYMENTS", STRIPE, (STRIPE,)),
    Case("OpenAI-style key", "/Environment/Variables/LLM", OPENAI, (OPENAI,)),
    Case("random base64", "/Environment/Variables/UPSTREAM_KEY", RANDOM_B64, (RANDOM_B64,)),
    Case("random base64url", "/Description", RANDOM_B64URL, (RANDOM_B64URL,)),
    Case("hex key", "/Environment/Variables/HMAC", HEX_KEY, (HEX_KEY,)),
    Case("env file in a string", "/Environment/Variables/DOTENV",
         "LOG_LEVEL=info\nDB_PASSWORD=d0tenvPassw0rd\n", ("d0tenvPassw0rd",)),
    Case("base64 user data holding a password", "/UserData",
         base64.b64encode(b"#!/bin/bash\nexport DB_PASSWORD=Us3rDataPw\nyum -y update\n").decode(),
         ("Us3rDataPw",)),
    Case("truncated JSON holding a secret name", "/Environment",
         '{"Variables":{"API_TOKEN":"truncatedtokenvalue","LOG_LEV', ("truncatedtokenvalue",)),
    # ---- by provenance: the template feeds them from NoEcho parameters or dynamic references
    Case("Ref to a NoEcho parameter", "/Environment/Variables/SETTING_A", "plainlookingvalue",
         ("plainlookingvalue",), ResourceRef("Function"), PROVENANCE),
    Case("Fn::Sub with a NoEcho parameter", "/Environment/Variables/SETTING_B",
         "mysql-connection-target", ("mysql-connection-target",), ResourceRef("Function"),
         PROVENANCE),
    Case("secretsmanager dynamic reference", "/Environment/Variables/SETTING_C",
         "resolvedsecretvalue", ("resolvedsecretvalue",), ResourceRef("Function"), PROVENANCE),
    Case("provenance inside a whole Environment (change set)", "/Environment",
         _env(SETTING_A="wholeenvsecret", STAGE="prod"), ("wholeenvsecret",),
         ResourceRef("Function"), PROVENANCE),
    Case("provenance in a tag (list index differs)", "/Tags/3/Value", "ownerfromnoecho",
         ("ownerfromnoecho",), ResourceRef("Function"), PROVENANCE),
    Case("ssm-secure dynamic reference", "/MasterUserPassword", "ssmsecurevalue",
         ("ssmsecurevalue",), ResourceRef("Cluster"), PROVENANCE),
]  # fmt: skip

BENIGN: list[tuple[str, str]] = [
    ("/QueueName", "checkout-receipts-znzrzytvm2qx"),
    ("/BucketName", "checkout-receipts-znzrzytvm2qx"),
    ("/QueueUrl", "https://sqs.us-east-1.amazonaws.com/123456789012/checkout-receipts-znzrzytvm2qx"),
    ("/Role", "arn:aws:iam::123456789012:role/service-role/app-FunctionRole-1W5VS3K5W3PZ"),
    ("/FunctionName", "sam-app-HelloWorldFunction-ayRjjZ2RhZrF"),
    ("/DeadLetterTargetArn",
     "arn:aws:sqs:us-east-1:123456789012:prod-app-DeadLetterQueue-1XQ4KLJ2M3N4O"),
    ("/KmsKeyId", "arn:aws:kms:us-east-1:123456789012:key/1b4e28ba-2fa1-11d2-883f-0016a3cc9a9e"),
    ("/KmsMasterKeyId", "alias/aws/sqs"),
    ("/Id", "1b4e28ba-2fa1-11d2-883f-0016a3cc9a9e"),
    ("/AuthorizationType", "NONE"),
    ("/AuthorizationType", "AWS_IAM"),
    ("/AuthorizationType", "COGNITO_USER_POOLS"),
    ("/Authorization", "NONE"),
    ("/ApiKeySourceType", "HEADER"),
    ("/ApiKeyRequired", "true"),
    ("/TokenValidityUnits", '{"AccessToken":"hours","IdToken":"hours","RefreshToken":"days"}'),
    ("/TokenValidityUnits/AccessToken", "hours"),
    ("/RefreshTokenValidity", "30"),
    ("/EnableTokenRevocation", "true"),
    ("/Policies/PasswordPolicy", '{"MinimumLength":12,"RequireNumbers":true}'),
    ("/ManageMasterUserPassword", "true"),
    ("/MasterUsername", "admin"),
    ("/GenerateSecretString",
     '{"SecretStringTemplate":"{\\"username\\":\\"admin\\"}","GenerateStringKey":"password",'
     '"PasswordLength":32}'),
    ("/SecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"),
    ("/Environment/Variables/DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"),
    ("/Environment/Variables/DB_PASSWORD_FILE", "/run/secrets/db_password"),
    ("/Environment/Variables/LOG_LEVEL", "info"),
    ("/KeySchema",
     '[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}]'),
    ("/KeyName", "ops-keypair"),
    ("/Tags/0/Value", "MonkeyTest"),
    ("/MonkeyTest", "enabled"),
    ("/Status", "Enabled"),
    ("/SSEAlgorithm", "AES256"),
    ("/BucketEncryption",
     '{"ServerSideEncryptionConfiguration":[{"ServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}'),
    ("/VisibilityTimeout", "30"),
    ("/MemorySize", "1024"),
    ("/InstanceType", "t3.micro"),
    ("/ImageId", "ami-0abcdef1234567890"),
    ("/SubnetIds", '["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]'),
    ("/SecurityGroupIds", '["sg-0a1b2c3d4e5f6a7b8"]'),
    ("/Runtime", "python3.12"),
    ("/Handler", "app.handler"),
    ("/ScheduleExpression", "cron(0 2 * * ? *)"),
    ("/Description", "Nightly drift check for the payments stack"),
    ("/UserPoolId", "us-east-1_AbCdEfGhI"),
    ("/HostedZoneId", "Z1D633PJN98FT9"),
    ("/CallbackURLs", '["https://app.example.com/callback"]'),
    ("/Code/S3Key", "cdk/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.zip"),
    ("/Image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("/UserData", base64.b64encode(b"#!/bin/bash\nyum -y update\nsystemctl start app\n").decode()),
    ("/PublicKeyMaterial",
     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk3Lq9Wz2Rt8Vm4Xp7Nc1Bd6Fg5Js0YaUe8Gt3Wx4Q ops@host"),
    ("/PublicKey",
     "-----BEGIN PUBLIC KEY-----\n"
     "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
     "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n"
     "-----END PUBLIC KEY-----"),
    ("/Cookies/Forward", "none"),
    ("/ForwardedValues",
     '{"Cookies":{"Forward":"whitelist","WhitelistedNames":["session-id"]},"QueryString":false}'),
    ("/RequestParameters", '{"method.request.header.Authorization":true}'),
    ("/Integration/RequestParameters",
     '{"integration.request.header.Authorization":"method.request.header.Authorization"}'),
    ("/PolicyDocument",
     '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue",'
     '"ssm:GetParameter","sts:GetSessionToken"],"Resource":"*"}]}'),
    ("/Environment/Variables/DATABASE_URL", "postgres://db.internal:5432/app"),
    ("/Endpoint", "mailto:ops@example.com"),
    ("/Timestamp", "2024-01-15T10:30:00.000Z"),
    ("/Value", "on"),
    ("/Value", ""),
]  # fmt: skip


# --------------------------------------------------------------------------- helpers
def leaks(output: str, secret: str) -> list[str]:
    """The parts of ``secret`` found in ``output``: itself, and every 8-character substring."""
    parts = {secret} | {secret[i : i + 8] for i in range(len(secret) - 7)}
    return sorted(p for p in parts if p in output)


def channels(case: Case) -> dict[str, str]:
    """Every way the value of ``case`` leaves the healer, as text."""
    redactor = Redactor(secrets=case.provenance)
    shown = redactor.value(case.value, drift_path(case.path), case.resource)
    target = {
        "Attribute": "Properties",
        "Name": case.path.split("/")[1],  # only the top-level property: Path is what counts
        "Path": "/Properties" + case.path,
        "BeforeValue": case.value,
        "AfterValue": case.value,
        "Drift": {"PreviousValue": case.value, "ActualValue": case.value},
    }
    change_resource = ResourceRef.from_change(
        {
            "LogicalResourceId": case.resource.logical_id,
            "PhysicalResourceId": case.resource.physical_id,
            "ResourceType": case.resource.resource_type,
        },
        case.resource.properties,  # the wiring passes the drift report's documents along
    )
    detail = redactor.change_detail({"Target": target, "Evaluation": "Static"}, change_resource)
    result = HealResult(
        stack_name="app",
        outcome=Outcome.DRIFT_REPORTED,
        reason="1 resource drifted (dry run)",
        drifted_resources=[
            DriftedResource(
                logical_resource_id=case.resource.logical_id,
                physical_resource_id=case.resource.physical_id,
                resource_type=case.resource.resource_type or "AWS::Lambda::Function",
                stack_resource_drift_status="MODIFIED",
                property_differences=[
                    PropertyDifference(
                        property_path=case.path,
                        expected_value=shown,
                        actual_value=shown,
                        difference_type="NOT_EQUAL",
                    )
                ],
            )
        ],
    )
    message = render(result, "eu-west-1")
    return {
        "drift": str(shown),
        "change set (checkpointed)": json.dumps(detail),
        "result (checkpointed)": json.dumps(result.dump()),
        "message": message.subject + "\n" + message.body,
        "log": _logged(message.body),
    }


def _logged(body: str) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("drift-healer-redaction-test")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(body)s"))
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter())
    logger.propagate = False
    try:
        logger.warning("notification only logged", extra={"body": body})
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
    return stream.getvalue()


# --------------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("case", SECRETS, ids=[c.what for c in SECRETS])
def test_no_secret_of_the_corpus_leaks_anywhere(case: Case) -> None:
    for channel, output in channels(case).items():
        for secret in case.secrets:
            assert not leaks(output, secret), f"{case.what}: {channel} leaks {secret!r}: {output}"
        assert REDACTED in output or channel == "log", f"{case.what}: {channel} shows no ****"


@pytest.mark.parametrize(("path", "value"), BENIGN, ids=[f"{p}={v[:30]}" for p, v in BENIGN])
def test_benign_values_stay_visible(path: str, value: str) -> None:
    resource = ResourceRef("Queue", "checkout-receipts-znzrzytvm2qx", "AWS::SQS::Queue")
    assert Redactor().value(value, path, resource) == value
    if value[:1] not in ("{", "["):  # in free text, a JSON pair is judged by its own name only
        assert redact_text(value) == value


def test_the_corpus_is_redacted_by_shape_in_free_text() -> None:
    """Status reasons and error messages: no names, shapes only."""
    shaped = [c for c in SECRETS if c.what.startswith(("URL", "redis", "connection", "query"))]
    shaped += [c for c in SECRETS if any(looks_secret(s) for s in c.secrets)]
    assert len(shaped) >= 15
    for case in shaped:
        text = f"Resource handler returned message: invalid value {case.value} (Service: Lambda)"
        out = redact_text(text)
        assert "Resource handler returned message" in out
        for secret in case.secrets:
            assert not leaks(out, secret), f"{case.what}: {out}"


def test_redaction() -> None:
    """The old API still works (cloudformation.py calls it until the Redactor is wired in)."""
    assert is_sensitive("/MasterUserPassword")
    assert is_sensitive("/Value", "/prod/api-key")
    assert not is_sensitive("/Value", "/prod/feature-flag")
    assert redact("hunter2", "/Properties/SecretString") == "****"
    assert redact("on", "/Value", "Flag") == "on"
    assert redact(None, "/Password") is None
    assert redact("correct-horse", "/Value", "DbPassword /app/db-password") == "****"
    assert redact("hunter2", "/Value", "Param /app/feature") == "hunter2"


# --------------------------------------------------------------------------- by name
@pytest.mark.parametrize(
    ("path", "verdict"),
    [
        ("/MasterUserPassword", Verdict.SECRET),
        ("/Environment/Variables/DB_PWD", Verdict.SECRET),
        ("/Environment/Variables/PASSWD", Verdict.SECRET),
        ("/Passphrase", Verdict.SECRET),
        ("/ClientSecret", Verdict.SECRET),
        ("/Environment/Variables/api_key", Verdict.SECRET),
        ("/Headers/x-api-key", Verdict.SECRET),
        ("/PrivateKey", Verdict.SECRET),
        ("/privkey", Verdict.SECRET),
        ("/Credentials", Verdict.SECRET),
        ("/Environment/Variables/APP_CREDS", Verdict.SECRET),
        ("/ConnectionString", Verdict.SECRET),
        ("/Environment/Variables/SENTRY_DSN", Verdict.SECRET),
        ("/SecretString", Verdict.SECRET),
        ("/AuthToken", Verdict.SECRET),
        ("/OauthToken", Verdict.SECRET),
        ("/AuthParameters/ApiKeyAuthParameters/ApiKeyValue", Verdict.SECRET),
        ("/Authorization", Verdict.WEAK),
        ("/Cookie", Verdict.WEAK),
        ("/Signature", Verdict.WEAK),
        ("/AuthorizationType", Verdict.ABOUT),
        ("/TokenValidityUnits/AccessToken", Verdict.ABOUT),
        ("/Policies/PasswordPolicy/MinimumLength", Verdict.ABOUT),
        ("/SecretArn", Verdict.ABOUT),
        ("/ApiKeyRequired", Verdict.ABOUT),
        ("/ManageMasterUserPassword", Verdict.ABOUT),
        ("/SessionDuration", Verdict.ABOUT),
        ("/KeySchema/0/KeyType", Verdict.NEUTRAL),
        ("/KeyName", Verdict.NEUTRAL),
        ("/KmsKeyId", Verdict.NEUTRAL),
        ("/PublicKey", Verdict.NEUTRAL),
        ("/MonkeyTest", Verdict.NEUTRAL),
        ("/AuthorizerId", Verdict.NEUTRAL),
        ("/PassthroughBehavior", Verdict.NEUTRAL),
        ("/BypassPolicyLockoutSafetyCheck", Verdict.NEUTRAL),
        ("/Environment/Variables/SECRETSMANAGER_ENDPOINT", Verdict.NEUTRAL),
    ],
)
def test_names(path: str, verdict: Verdict) -> None:
    assert name_verdict(path.split("/")[1:]) is verdict


def test_authorization_shows_an_enum_and_hides_a_credential() -> None:
    redactor, resource = Redactor(), ResourceRef("Method")
    assert redactor.value("NONE", "/AuthorizationType", resource) == "NONE"
    assert redactor.value("NONE", "/Authorization", resource) == "NONE"
    assert redactor.value("Bearer x", "/Authorization", resource) == REDACTED
    assert redactor.value("hunter2", "/Authorization", resource) == REDACTED


def test_booleans_and_empty_values_are_shown_even_under_secret_names() -> None:
    redactor, resource = Redactor(), ResourceRef("Db")
    assert redactor.value("", "/MasterUserPassword", resource) == ""
    assert redactor.value("true", "/Secret", resource) == "true"
    assert redactor.value('{"Password":true,"Pin":1234}', "/X", resource) == (
        '{"Password":true,"Pin":1234}'
    )
    assert redactor.value('{"Password":1234}', "/X", resource) == '{"Password":"****"}'


def test_an_unknown_list_element_name_is_shown_only_as_an_enum_word() -> None:
    """A change set path into a list (``/Tags/1/Value``) without the drift report's documents."""
    redactor, resource = Redactor(), ResourceRef("Bucket")
    assert redactor.value("payments", "/Tags/1/Value", resource) == "payments"
    assert redactor.value("correct-horse-9", "/Tags/1/Value", resource) == REDACTED


def test_json_values_are_only_rewritten_when_something_was_hidden() -> None:
    redactor, resource = Redactor(), ResourceRef("Fn")
    spaced = '{"Variables": {"LOG_LEVEL": "info"}}'
    assert redactor.value(spaced, "/Environment", resource) == spaced
    hidden = redactor.value(
        '{"Variables": {"DB_PASSWORD": "x1", "A": "b"}}', "/Environment", resource
    )
    assert json.loads(str(hidden)) == {"Variables": {"DB_PASSWORD": REDACTED, "A": "b"}}


# --------------------------------------------------------------------------- change paths
def test_a_change_is_judged_by_its_path_not_its_name() -> None:
    """``Target.Name`` is only the top-level property (``Environment``): a secret deeper in the
    path was shown by the word-list redaction."""
    target = {
        "Attribute": "Properties",
        "Name": "Environment",
        "Path": "/Properties/Environment/Variables/DB_PASSWORD",
        "BeforeValue": "oldpassword1",
        "AfterValue": "newpassword2",
        "Drift": {"PreviousValue": "newpassword2", "ActualValue": "oldpassword1"},
    }
    out = Redactor().change_detail({"Target": target}, ResourceRef("Fn"))
    assert out["Target"]["BeforeValue"] == out["Target"]["AfterValue"] == REDACTED
    assert out["Target"]["Drift"] == {"PreviousValue": REDACTED, "ActualValue": REDACTED}
    assert out["Target"]["Name"] == "Environment"  # everything else as it was


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ({"Path": "/Properties/Value", "Name": "Value"}, "/Value"),
        ({"Path": "/Properties/Tags/1/Value"}, "/Tags/1/Value"),
        ({"Path": "/Properties"}, ""),
        ({"Name": "MasterUserPassword"}, "/MasterUserPassword"),
        ({"Attribute": "Tags"}, "/Tags"),
        ({}, ""),
    ],
)
def test_change_paths(target: dict[str, Any], path: str) -> None:
    assert change_path(target) == path


def test_a_change_caused_by_a_no_echo_parameter_hides_its_values() -> None:
    redactor = Redactor(secrets=SecretPaths(parameters=frozenset({"DbPass"})))
    detail = {
        "Target": {"Path": "/Properties/Description", "BeforeValue": "a", "AfterValue": "b"},
        "ChangeSource": "ParameterReference",
        "CausingEntity": "DbPass",
    }
    out = redactor.change_detail(detail, ResourceRef("Fn"))
    assert (out["Target"]["BeforeValue"], out["Target"]["AfterValue"]) == (REDACTED, REDACTED)


# --------------------------------------------------------------------------- hide every value
@given(st.one_of(st.none(), st.text()), st.sampled_from(["/Value", "/Tags/1/Value", "", "/A/B"]))
def test_hide_all_hides_every_value_and_keeps_none(value: str | None, path: str) -> None:
    shown = Redactor(hide_all=True).value(value, path, ResourceRef("R"))
    assert shown == (None if value is None else REDACTED)


def test_hide_all_in_a_change_keeps_the_path() -> None:
    target = {"Path": "/Properties/QueueName", "BeforeValue": "a", "AfterValue": "b"}
    out = Redactor(hide_all=True).change_detail({"Target": target}, ResourceRef("Q"))
    assert out["Target"] == {
        "Path": "/Properties/QueueName",
        "BeforeValue": "****",
        "AfterValue": "****",
    }


# --------------------------------------------------------------------------- by provenance
def test_provenance_of_a_parsed_template() -> None:
    assert PROVENANCE.parameters == {"DbPass"}
    assert PROVENANCE.paths == {
        ("Function", "/Environment/Variables/SETTING_A"),
        ("Function", "/Environment/Variables/SETTING_B"),
        ("Function", "/Environment/Variables/SETTING_C"),
        ("Function", "/Tags/*/Value"),
        ("Cluster", "/MasterUserPassword"),
    }
    assert PROVENANCE.covers("Function", "/Tags/7/Value")
    assert not PROVENANCE.covers("Function", "/Environment/Variables/STAGE")
    assert PROVENANCE.below("Function", "/Environment")
    assert not PROVENANCE.covers("Cluster", "/MasterUsername")


def test_a_value_holding_a_secret_path_that_is_not_json_is_hidden_whole() -> None:
    out = Redactor(secrets=PROVENANCE).value("Variables=x", "/Environment", ResourceRef("Function"))
    assert out == REDACTED


def test_plain_ssm_dynamic_references_and_other_parameters_are_not_secret() -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "NoEcho": "false"}},
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Value": "{{resolve:ssm:/app/flag}}", "Name": {"Ref": "Stage"}},
            }
        },
    }
    assert secret_paths(template) == SecretPaths()


def test_an_intrinsic_function_is_secret_as_a_whole() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Properties": {
                    "Environment": {
                        "Fn::If": [
                            "Prod",
                            {"Variables": {"K": {"Ref": "Pw"}}},
                            {"Ref": "AWS::NoValue"},
                        ]
                    }
                }
            },
            "Whole": {"Properties": {"Fn::If": ["C", {"A": {"Ref": "Pw"}}, {}]}},
        }
    }
    assert secret_paths(template, ["Pw"]).paths == {("Fn", "/Environment"), ("Whole", "")}


def test_no_echo_parameters_from_describe_stacks() -> None:
    parameters = [
        {"ParameterKey": "DbPass", "ParameterValue": "****"},
        {"ParameterKey": "Stage", "ParameterValue": "prod"},
        {"ParameterKey": "Image", "ParameterValue": "x", "ResolvedValue": "y"},
    ]
    assert no_echo_parameters(parameters) == {"DbPass"}


YAML_TEMPLATE = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  DbPass:
    Type: String
    NoEcho: true
  Stage: {Type: String, Default: dev}
Resources:
  # a comment at the resources' indentation
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: admin
      MasterUserPassword: !Ref DbPass
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Environment:
        Variables:
          TOKEN: '{{resolve:secretsmanager:prod/app:SecretString:token}}'
          STAGE: !Ref Stage
      Description: !Sub |
        Function of ${Stage}
  Worker:
    Type: AWS::Lambda::Function
    Properties:
      Environment:
        Variables:
          URL: !Sub "mysql://app:${DbPass}@db/app"
  Queue:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${Stage}-queue", Tags: [{Key: owner, Value: DbPassword}]}
Outputs:
  Pw: {Value: !Ref DbPass}
"""


def test_provenance_of_a_yaml_body_hides_whole_resources() -> None:
    found = secret_paths(YAML_TEMPLATE)
    assert found.parameters == {"DbPass"}
    assert found.paths == {("Database", ""), ("Function", ""), ("Worker", "")}
    assert found.covers("Database", "/Anything/At/All")
    assert not found.covers("Queue", "/QueueName")


def test_the_yaml_text_reading_covers_what_parsing_finds() -> None:
    """The conservative text reading hides at least every resource the parsed template does."""
    from samtranslator.yaml_helper import yaml_parse  # tag-tolerant YAML, tests only

    parsed = secret_paths(yaml_parse(YAML_TEMPLATE))
    text = secret_paths(YAML_TEMPLATE)
    assert {lid for lid, _ in parsed.paths} <= {lid for lid, _ in text.paths}
    assert parsed.parameters == text.parameters


def test_json_text_is_parsed_and_unreadable_layouts_hide_everything() -> None:
    assert secret_paths(json.dumps(TEMPLATE)) == PROVENANCE
    flow = (
        "Parameters: {P: {Type: String, NoEcho: true}}\n"
        "Resources: {A: {Type: X, Properties: {V: !Ref P}}}"
    )
    assert secret_paths(flow).paths == {(ALL, "")}
    assert secret_paths("Resources: {A: {Type: X}}").paths == frozenset()


def test_without_a_template_no_echo_parameters_hide_everything() -> None:
    assert secret_paths(None, ["DbPass"]).covers("Any", "/Any")
    assert secret_paths(None) == SecretPaths()


def test_secret_paths_round_trip_through_a_checkpoint() -> None:
    data = json.loads(json.dumps(PROVENANCE.to_json()))
    assert SecretPaths.from_json(data) == PROVENANCE
    assert "plainlookingvalue" not in json.dumps(data)


# --------------------------------------------------------------------------- free text and logs
def test_free_text_keeps_its_words_and_loses_its_secrets() -> None:
    text = (
        f"Invalid request: postgres://app:Pg5ecretW0rd@db/app; header Authorization: Bearer {JWT}"
    )
    out = redact_text(text)
    assert out.startswith("Invalid request: postgres://app:****@db/app; header Authorization: ")
    assert not leaks(out, "Pg5ecretW0rd") and not leaks(out, JWT)
    assert redact_text("stack app is UPDATE_ROLLBACK_COMPLETE") == (
        "stack app is UPDATE_ROLLBACK_COMPLETE"
    )


def test_the_logging_filter_redacts_message_arguments_and_extras() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("drift-healer-filter-test")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s | %(detail)s"))
    logger.addHandler(handler)
    logger.addFilter(RedactingFilter())
    logger.propagate = False
    try:
        logger.error("key %s failed", AKIA, extra={"detail": {"token": GITHUB, "n": 1}})
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
    out = stream.getvalue()
    assert "key **** failed" in out and "'n': 1" in out
    assert not leaks(out, AKIA) and not leaks(out, GITHUB)


# --------------------------------------------------------------------------- properties
_B62 = string.ascii_letters + string.digits


@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16))
def test_any_access_key_id_is_redacted(body: str) -> None:
    key = "AK" + "IA" + body
    assert Redactor().value(key, "/Description", ResourceRef("R")) == REDACTED
    assert not leaks(redact_text(f"used key {key} today"), key)


@given(st.sampled_from(["hex", "token"]), st.binary(min_size=16, max_size=48))
def test_hex_keys_and_prefixed_tokens_are_always_redacted(kind: str, raw: bytes) -> None:
    """Whatever the bytes: hex of 32+ characters, and any body behind a known token prefix."""
    key = raw.hex() if kind == "hex" else "gh" + "p_" + raw.hex()
    assert Redactor().value(key, "/Description", ResourceRef("R")) == REDACTED
    assert not leaks(redact_text(f"upstream rejected {key}."), key)


@given(
    st.text(alphabet=_B62 + "!%$", min_size=3, max_size=40),  # as in a URL: # ? / @ escaped
    st.sampled_from(
        [
            "postgres://app:{}@db.internal:5432/app",
            "Server=db;User Id=sa;Password={};Encrypt=true",
            "https://api.example.com/x?access_token={}&page=2",
            "DB_PASSWORD={}",
            "redis://:{}@cache:6379",
        ]
    ),
)
def test_credentials_in_urls_and_connection_strings_are_always_redacted(
    secret: str, template: str
) -> None:
    value = template.format(secret)
    assert Redactor().value(value, "/Description", ResourceRef("R")) == REDACTED
    out = redact_text(value)
    assert secret not in out.replace(template.format(""), "") or secret in template
    assert REDACTED in out


@given(st.text(alphabet=_B62 + "-._~+/", min_size=8, max_size=60).filter(lambda t: not t.isalpha()))
def test_bearer_credentials_are_always_redacted(credential: str) -> None:
    value = f"Bearer {credential}"
    assert Redactor().value(value, "/Description", ResourceRef("R")) == REDACTED
    assert redact_text(f"header Authorization: {value}") == "header Authorization: ****"


def _random_key(rng: random.Random, encoding: str, size: int) -> str:
    raw = rng.randbytes(size)
    if encoding == "base64":
        return base64.b64encode(raw).decode()
    if encoding == "base64url":
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if encoding == "hex":
        return raw.hex()
    alphabet = {"base62": _B62, "base36": string.ascii_lowercase + string.digits}[encoding]
    return "".join(rng.choice(alphabet) for _ in range(size * 4 // 3))


@pytest.mark.parametrize(
    ("encoding", "size", "most_missed"),
    [
        # 24 characters: about 1 in 100 random base64 keys reads like words by chance
        ("base64", 18, 30),
        ("base64url", 18, 30),
        ("base62", 18, 5),
        ("base36", 18, 5),
        ("hex", 16, 0),
        # 32 characters and more: next to none
        ("base64", 24, 5),
        ("base64url", 24, 5),
        ("base62", 24, 2),
        ("base64", 33, 1),
        ("base62", 33, 0),
        ("hex", 32, 0),
    ],
)
def test_recall_of_random_keys(encoding: str, size: int, most_missed: int) -> None:
    """Random keys as generators make them (``secrets.token_urlsafe``, ``token_hex``, base62),
    2,000 each with a fixed seed: how many the value shape alone misses (no name, no provenance:
    those catch the rest). A statistical rule cannot be "always": a random string can read like
    words by chance, so this pins the measured rate instead."""
    rng = random.Random(f"{encoding}-{size}")
    keys = [_random_key(rng, encoding, size) for _ in range(2000)]
    missed = [k for k in keys if Redactor().value(k, "/Description", ResourceRef("R")) != REDACTED]
    assert len(missed) <= most_missed, missed[:5]


WORDS = [
    "checkout", "receipts", "orders", "payments", "queue", "bucket", "logs", "prod", "staging",
    "web", "api", "service", "function", "handler", "dead", "letter", "archive", "reports",
    "events", "stream", "table", "users", "billing", "invoices", "images", "thumbnails",
]  # fmt: skip


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6),
    st.sampled_from(["-", "_", "", "/", "."]),
    st.booleans(),
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=12, max_size=13),
)
def test_names_made_of_words_are_kept(words: list[str], sep: str, title: bool, suffix: str) -> None:
    name = sep.join(w.title() if title or not sep else w for w in words)
    generated = f"{name}-{suffix}"  # CloudFormation's generated names end in a random suffix
    for value in (name, generated, f"arn:aws:sqs:us-east-1:123456789012:{generated}"):
        assert Redactor().value(value, "/QueueName", ResourceRef("Queue")) == value
        assert redact_text(value) == value


@given(st.text(max_size=300), st.text(max_size=40))
def test_any_text_is_handled(value: str, path: str) -> None:
    out = Redactor().value(value, path, ResourceRef("R", properties=({"Tags": []},)))
    assert isinstance(out, str)
    assert isinstance(redact_text(value), str)


#: What only catastrophic backtracking could exceed (these inputs take ~1 s on a loaded machine).
HANG_SECONDS = 30


@pytest.mark.parametrize(
    "text",
    [
        "a=" * 50000,
        "password=" * 20000,
        "aB3-" * 25000,
        "https://" * 20000,
        "Authorization: Bearer " * 10000,
        '{"a":' * 20000,
        "x" * 200000,
        ("token=" + "a b " * 20000) + ("Password: " + "x" * 50000),
    ],
    ids=lambda t: t[:12],
)
def test_large_values_do_not_hang(text: str) -> None:
    """No pattern backtracks quadratically on large or adversarial values (a drift value can be
    a whole state machine definition). Not a speed target (that is the benchmark's): the bound
    is far above a loaded machine's time, and far below what quadratic backtracking takes."""
    start = time.perf_counter()
    redact_text(text)
    Redactor().value(text, "/DefinitionString", ResourceRef("Machine"))
    assert time.perf_counter() - start < HANG_SECONDS


def test_a_large_json_definition_does_not_hang() -> None:
    states = {f"S{i}": {"Type": "Pass", "Comment": "x=" + "a" * 50} for i in range(2000)}
    start = time.perf_counter()
    Redactor().value(json.dumps({"States": states}), "/DefinitionString", ResourceRef("M"))
    assert time.perf_counter() - start < HANG_SECONDS


# --------------------------------------------------------------------------- wiring shapes
def test_a_raw_drift_report_entry_is_redacted_with_its_documents() -> None:
    """What ``drifted_resources`` gets from DescribeStackResourceDrifts, as the wiring uses it."""
    drift: dict[str, Any] = {
        "LogicalResourceId": "Bucket",
        "PhysicalResourceId": "app-bucket-1x2y3z",
        "ResourceType": "AWS::S3::Bucket",
        "ExpectedProperties": json.dumps(
            {"Tags": [{"Key": "team", "Value": "web"}, {"Key": "deploy-token", "Value": "t0kA"}]}
        ),
        "ActualProperties": json.dumps(
            {"Tags": [{"Key": "team", "Value": "api"}, {"Key": "deploy-token", "Value": "t0kB"}]}
        ),
        "PropertyDifferences": [
            {"PropertyPath": "/Tags/0/Value", "ExpectedValue": "web", "ActualValue": "api"},
            {"PropertyPath": "/Tags/1/Value", "ExpectedValue": "t0kA", "ActualValue": "t0kB"},
        ],
    }
    resource, redactor = ResourceRef.from_drift(drift), Redactor()
    shown = [
        (
            redactor.value(d["ExpectedValue"], drift_path(d["PropertyPath"]), resource),
            redactor.value(d["ActualValue"], drift_path(d["PropertyPath"]), resource),
        )
        for d in drift["PropertyDifferences"]
    ]
    assert shown == [("web", "api"), (REDACTED, REDACTED)]
    assert (
        ResourceRef.from_drift({"LogicalResourceId": "X", "ActualProperties": "{oops"}).properties
        == ()
    )


def test_a_value_whose_name_no_document_gives_is_judged_unknown() -> None:
    resource = ResourceRef("Bucket", properties=({"Tags": [{"Key": "team", "Value": "x"}]},))
    assert Redactor().value("payments", "/Tags/4/Value", resource) == "payments"
    assert Redactor().value("s3cr3t-ish-9", "/Tags/4/Value", resource) == REDACTED


def test_provenance_hides_even_booleans_and_numbers() -> None:
    redactor, resource = Redactor(secrets=PROVENANCE), ResourceRef("Function")
    assert redactor.value("true", "/Environment/Variables/SETTING_A", resource) == REDACTED
    env = redactor.value('{"Variables":{"SETTING_A":7,"STAGE":"dev"}}', "/Environment", resource)
    assert env == '{"Variables":{"SETTING_A":"****","STAGE":"dev"}}'


def test_json_nested_too_deep_is_judged_as_text_or_hidden() -> None:
    deep = "[" * 2000 + '"DB_PASSWORD=hunter2"' + "]" * 2000  # json cannot parse it
    assert Redactor().value(deep, "/X", ResourceRef("R")) == REDACTED
    walkable = "[" * 900 + "]" * 900  # json parses it, the walk would overflow the stack
    assert Redactor().value(walkable, "/X", ResourceRef("R")) == REDACTED
