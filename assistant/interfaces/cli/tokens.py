"""`policy-assistant token create|list|revoke`: API tokens for programs calling the HTTP API, /v1 and /mcp."""
from __future__ import annotations

import argparse

from assistant.config import Settings
from assistant.interfaces.cli.common import print_json
from assistant.interfaces.http.tokens import TokenStore


def add_parser(sub) -> None:
    token = sub.add_parser("token", help="管理 API 令牌（程序调用 /api/v1、/v1、/mcp 时使用）")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="子命令")
    create = token_sub.add_parser("create", help="生成令牌（只显示一次）")
    create.add_argument("name", help="令牌名称，如 dify、校办机器人")
    create.add_argument("--write", action="store_true", help="允许上传和删除文档（默认只读）")
    listing = token_sub.add_parser("list", help="列出令牌（不显示令牌本身）")
    listing.add_argument("--json", action="store_true")
    revoke = token_sub.add_parser("revoke", help="吊销令牌，立即生效")
    revoke.add_argument("name")


def run(args: argparse.Namespace) -> int:
    store = TokenStore(Settings.from_env().data_dir)
    if args.token_command == "create":
        secret = store.create(args.name, write=args.write)
        rights = "读写" if args.write else "只读"
        print(secret)
        print(f"已生成{rights}令牌“{args.name}”。令牌只显示这一次，请妥善保存；"
              f"调用时在请求头中加入 Authorization: Bearer <令牌>。", flush=True)
        return 0
    if args.token_command == "list":
        tokens = store.list()
        if args.json:
            print_json([t.to_dict() for t in tokens])
        elif not tokens:
            print("没有 API 令牌。")
        for t in tokens if not args.json else ():
            print(f"{t.name}｜{'读写' if t.write else '只读'}｜创建于 {t.created_at}")
        return 0
    store.revoke(args.name)
    print(f"已吊销令牌“{args.name}”。")
    return 0
