from .base_model import BaseModel
from .fragments import TokenFields


class Tokens(BaseModel):
    tokens: list["TokensTokens"]


TokensTokens = TokenFields
Tokens.model_rebuild()
