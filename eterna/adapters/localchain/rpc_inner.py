"""A simulation's inner instructions on the wire, as a node answers ``innerInstructions``.

A node parses the inner instructions of the programs it knows (``jsonParsed``); the others
come back partially decoded: program id, account addresses and base58 data. The token
programs' transfers are the ones Eterna reads (what a swap would pay), so those are parsed
here as a node parses them: ``transfer`` with its ``amount``, ``transferChecked`` with its
mint and ``tokenAmount``. Any other instruction - a token program's too - comes back
partially decoded, which a client that looks for transfers skips, as it would skip an
instruction type it does not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from solders.pubkey import Pubkey
from solders.transaction_metadata import InnerInstruction

from eterna.adapters.localchain.rpc_params import b58encode
from eterna.adapters.localchain.rpc_wire import ui_amount_string
from eterna.adapters.solana.ids import TOKEN_2022_PROGRAM, TOKEN_PROGRAM

_PARSER_NAMES: Final = {TOKEN_PROGRAM: "spl-token", TOKEN_2022_PROGRAM: "spl-token-2022"}
_TRANSFER: Final = 3
_TRANSFER_CHECKED: Final = 12
_AMOUNT_END: Final = 9


def inner_instructions_json(
    groups: Sequence[Sequence[InnerInstruction]], keys: Sequence[Pubkey]
) -> list[dict[str, Any]]:
    """Return the ``innerInstructions`` of a simulation: per instruction index, its CPIs."""
    answer: list[dict[str, Any]] = []
    for index, group in enumerate(groups):
        if group:
            answer.append(
                {"index": index, "instructions": [_instruction_json(i, keys) for i in group]}
            )
    return answer


def _instruction_json(inner: InnerInstruction, keys: Sequence[Pubkey]) -> dict[str, Any]:
    compiled = inner.instruction()
    program = keys[compiled.program_id_index]
    accounts = [str(keys[i]) for i in bytes(compiled.accounts)]
    data = bytes(compiled.data)
    parsed = _parsed_transfer(program, accounts, data)
    if parsed is not None:
        return {
            "program": _PARSER_NAMES[program],
            "programId": str(program),
            "parsed": parsed,
            "stackHeight": inner.stack_height(),
        }
    return {
        "programId": str(program),
        "accounts": accounts,
        "data": b58encode(data),
        "stackHeight": inner.stack_height(),
    }


def _parsed_transfer(program: Pubkey, accounts: list[str], data: bytes) -> dict[str, Any] | None:
    if program not in _PARSER_NAMES or len(data) < _AMOUNT_END:
        return None
    amount = int.from_bytes(data[1:_AMOUNT_END], "little")
    if data[0] == _TRANSFER and len(accounts) >= 3:
        info = {
            "source": accounts[0],
            "destination": accounts[1],
            "authority": accounts[2],
            "amount": str(amount),
        }
        return {"type": "transfer", "info": info}
    if data[0] == _TRANSFER_CHECKED and len(data) > _AMOUNT_END and len(accounts) >= 4:
        decimals = data[_AMOUNT_END]
        checked: dict[str, Any] = {
            "source": accounts[0],
            "mint": accounts[1],
            "destination": accounts[2],
            "authority": accounts[3],
            "tokenAmount": {
                "amount": str(amount),
                "decimals": decimals,
                "uiAmount": None,
                "uiAmountString": ui_amount_string(amount, decimals),
            },
        }
        return {"type": "transferChecked", "info": checked}
    return None
