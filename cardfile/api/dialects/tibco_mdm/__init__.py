"""The TIBCO MDM dialect: records of repositories under ``/mdm`` (docs/dialects/tibco-mdm.md)."""

from cardfile.api.dialects.tibco_mdm.routes import router

__all__ = ["router"]
