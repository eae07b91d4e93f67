#pragma once
// Where S3 requests go and with which credentials, resolved as the AWS CLI resolves them
// (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html and
// cli-configure-files.html):
//   credentials  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, else the profile
//                AWS_PROFILE (default "default") of AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
//                then of AWS_CONFIG_FILE (~/.aws/config, sections "[profile NAME]", "[default]");
//                none at all: requests go unsigned (public buckets)
//   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else us-east-1
//   endpoint     AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's `endpoint_url`, else AWS
//                (the CLI's --endpoint-url sets AWS_ENDPOINT_URL_S3 for the process)
// Addressing: path style (https://HOST/BUCKET/KEY) for a custom endpoint, an IP host or a bucket
// name with dots; virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY) on AWS.
//
// Secrets never leave this struct and the signer: they are not part of any URL, message or file.
// Thread affinity: none. Reads two small files.

#include "result.h"

#include <QString>
#include <QUrl>

namespace sparsescope::aws {

struct Credentials {
    QString accessKeyId;
    QString secretAccessKey;
    QString sessionToken; // temporary credentials only
    bool isEmpty() const { return accessKeyId.isEmpty(); }
};

struct S3Settings {
    Credentials credentials; // empty: unsigned requests
    QString region = QStringLiteral("us-east-1");
    QUrl endpoint;           // empty: AWS
    QString profile = QStringLiteral("default");
};

// Errors: Usage (an endpoint that is not an http(s) URL; a profile named by AWS_PROFILE that
// neither file has).
Result<S3Settings> resolveS3Settings();

// The endpoint the settings name, as text for a cache identity (endpoint + bucket + key): the
// custom endpoint's scheme://host:port, else "aws". Never fails (a bad endpoint fails later).
QString endpointIdentity();

// The URL of `key` in `bucket` (key unencoded, as the AWS CLI writes it; "" for the bucket
// itself, e.g. for ListObjectsV2).
QUrl objectUrl(const S3Settings &settings, const QString &bucket, const QString &key);

} // namespace sparsescope::aws
