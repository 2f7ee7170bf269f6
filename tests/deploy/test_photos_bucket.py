"""After-sales photos on AWS: each stage's own private bucket, its name in the API function's
environment (photos.py signs uploads and views for it), browsers upload by presigned POST only."""
import pytest


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_stage_has_a_private_photos_bucket_named_in_the_api_environment(packages, stage):
    resources = packages[stage].resources
    bucket = resources["PhotosBucket"]
    assert bucket["Type"] == "AWS::S3::Bucket"
    properties = bucket["Properties"]
    assert properties["BucketName"] == {"Fn::Sub": f"tapcard-{stage}-photos-${{AWS::AccountId}}"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    [cors] = properties["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedMethods"] == ["POST"]
    assert bucket["DeletionPolicy"] == ("Retain" if stage == "prod" else "Delete")
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["PHOTOS_BUCKET"] == {"Ref": "PhotosBucket"}
    assert variables["TAPCARD_STAGE"] == stage  # merged into chalice's own environment, not replacing it
