"""The TIBCO MDM dialect: records of repositories under ``/mdm`` (docs/dialects/tibco-mdm.md)."""

from cardfile.api.dialects.tibco_mdm.routes import create_app, router

__all__ = ["create_app", "router"]
